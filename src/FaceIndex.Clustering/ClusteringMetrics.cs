namespace FaceIndex.Clustering;

/// <summary>Agreement between a clustering and reference labels.</summary>
/// <param name="Items">Number of labelled items compared.</param>
/// <param name="TrueClusters">Number of distinct reference labels.</param>
/// <param name="PredictedClusters">Number of distinct predicted clusters.</param>
/// <param name="PairwisePrecision">Of the pairs put together, the fraction that share a label.</param>
/// <param name="PairwiseRecall">Of the pairs that share a label, the fraction put together.</param>
/// <param name="PairwiseF1">Harmonic mean of pairwise precision and recall.</param>
/// <param name="BCubedPrecision">Mean over items of the fraction of its cluster that shares its label.</param>
/// <param name="BCubedRecall">Mean over items of the fraction of its label that shares its cluster.</param>
/// <param name="BCubedF1">Harmonic mean of BCubed precision and recall.</param>
public readonly record struct ClusteringQuality(
    int Items,
    int TrueClusters,
    int PredictedClusters,
    double PairwisePrecision,
    double PairwiseRecall,
    double PairwiseF1,
    double BCubedPrecision,
    double BCubedRecall,
    double BCubedF1);

/// <summary>
/// Pairwise and BCubed precision, recall and F1 of a clustering against reference labels, in O(N)
/// from the contingency table (counts per (label, cluster) cell), never enumerating pairs.
/// </summary>
public static class ClusteringMetrics
{
    /// <summary>Compares predicted clusters with reference labels (any int values; equal means same group).</summary>
    /// <remarks>
    /// With no pair predicted together (all singletons) pairwise precision is 1; with no pair sharing a
    /// label pairwise recall is 1: an empty set of pairs has nothing wrong in it. An empty input scores 1.
    /// </remarks>
    /// <exception cref="ArgumentException">The spans differ in length.</exception>
    public static ClusteringQuality Evaluate(ReadOnlySpan<int> truth, ReadOnlySpan<int> predicted)
    {
        if (truth.Length != predicted.Length)
        {
            throw new ArgumentException($"{truth.Length} reference labels but {predicted.Length} predictions.", nameof(predicted));
        }

        int n = truth.Length;
        var trueSize = new Dictionary<int, long>();
        var predictedSize = new Dictionary<int, long>();
        var cells = new Dictionary<(int Truth, int Predicted), long>();
        for (int i = 0; i < n; i++)
        {
            Increment(trueSize, truth[i]);
            Increment(predictedSize, predicted[i]);
            Increment(cells, (truth[i], predicted[i]));
        }

        double togetherAndSame = 0;
        double bcubedPrecision = 0;
        double bcubedRecall = 0;
        foreach (var (cell, count) in cells)
        {
            togetherAndSame += Pairs(count);

            // Each of the cell's `count` items sees `count` same-label items in its cluster.
            bcubedPrecision += (double)count * count / predictedSize[cell.Predicted];
            bcubedRecall += (double)count * count / trueSize[cell.Truth];
        }

        double together = 0;
        foreach (long size in predictedSize.Values)
        {
            together += Pairs(size);
        }

        double same = 0;
        foreach (long size in trueSize.Values)
        {
            same += Pairs(size);
        }

        double pairwisePrecision = together == 0 ? 1 : togetherAndSame / together;
        double pairwiseRecall = same == 0 ? 1 : togetherAndSame / same;
        double bp = n == 0 ? 1 : bcubedPrecision / n;
        double br = n == 0 ? 1 : bcubedRecall / n;
        return new ClusteringQuality(
            n,
            trueSize.Count,
            predictedSize.Count,
            pairwisePrecision,
            pairwiseRecall,
            F1(pairwisePrecision, pairwiseRecall),
            bp,
            br,
            F1(bp, br));
    }

    private static double Pairs(long size) => size * (size - 1) / 2.0;

    private static double F1(double precision, double recall) =>
        precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);

    private static void Increment<TKey>(Dictionary<TKey, long> counts, TKey key)
        where TKey : notnull
    {
        counts[key] = counts.GetValueOrDefault(key) + 1;
    }
}
