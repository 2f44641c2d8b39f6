namespace FaceIndex.Evaluation;

/// <summary>The outcome of the k-fold verification protocol on one representation.</summary>
/// <param name="Pairs">Pairs evaluated.</param>
/// <param name="SamePairs">Same-person pairs among them.</param>
/// <param name="FoldAccuracies">Accuracy on each held-out fold, with the threshold chosen on the other folds.</param>
/// <param name="FoldThresholds">The squared-L2 threshold chosen for each fold.</param>
/// <param name="Auc">Area under the ROC curve over all pairs (a smaller distance means "same").</param>
/// <param name="FarTarget">The false-accept rate <see cref="TarAtFar"/> is measured at.</param>
/// <param name="TarAtFar">True-accept rate at <see cref="FarTarget"/> over all pairs; null when there are fewer than 1 / FAR different-person pairs.</param>
/// <param name="ThresholdAtFar">The distance below which pairs are accepted at <see cref="FarTarget"/> (the (FAR × different pairs + 1)-th smallest different-pair distance); null with <see cref="TarAtFar"/>.</param>
public sealed record VerificationReport(int Pairs, int SamePairs, double[] FoldAccuracies, float[] FoldThresholds, double Auc, double FarTarget, double? TarAtFar, float? ThresholdAtFar)
{
    /// <summary>Mean of the fold accuracies.</summary>
    public double MeanAccuracy => Mean(FoldAccuracies);

    /// <summary>Standard deviation of the fold accuracies (population form, as LFW result tables report it).</summary>
    public double StdAccuracy => Std(FoldAccuracies);

    /// <summary>Mean of the fold thresholds.</summary>
    public double MeanThreshold => Mean(Array.ConvertAll(FoldThresholds, t => (double)t));

    /// <summary>Standard deviation of the fold thresholds.</summary>
    public double StdThreshold => Std(Array.ConvertAll(FoldThresholds, t => (double)t));

    private static double Mean(double[] values)
    {
        double sum = 0;
        foreach (var v in values)
        {
            sum += v;
        }

        return values.Length == 0 ? double.NaN : sum / values.Length;
    }

    private static double Std(double[] values)
    {
        double mean = Mean(values), sum = 0;
        foreach (var v in values)
        {
            sum += (v - mean) * (v - mean);
        }

        return values.Length == 0 ? double.NaN : Math.Sqrt(sum / values.Length);
    }
}

/// <summary>
/// LFW's verification protocol: for each of k folds, the distance threshold that maximises accuracy
/// on the other k − 1 folds is applied to the held-out fold; the report gives the mean and standard
/// deviation of the k accuracies, plus the ROC AUC and the TAR at a fixed FAR over all pairs.
/// A pair is judged "same" when its distance is at most the threshold.
/// </summary>
public static class VerificationProtocol
{
    /// <summary>Default false-accept rate for the TAR figure (0.1 %).</summary>
    public const double DefaultFar = 0.001;

    /// <summary>Runs the protocol on per-pair distances.</summary>
    /// <exception cref="ArgumentException">The spans differ in length, a fold index is out of range, or a fold has no pairs outside it.</exception>
    public static VerificationReport Evaluate(ReadOnlySpan<float> distances, ReadOnlySpan<bool> same, ReadOnlySpan<int> folds, int foldCount, double far = DefaultFar)
    {
        if (distances.Length != same.Length || distances.Length != folds.Length)
        {
            throw new ArgumentException("distances, labels and folds must have the same length.", nameof(distances));
        }

        if (foldCount < 2)
        {
            throw new ArgumentException("The protocol needs at least 2 folds.", nameof(foldCount));
        }

        int n = distances.Length, sameCount = 0;
        for (int i = 0; i < n; i++)
        {
            if ((uint)folds[i] >= (uint)foldCount)
            {
                throw new ArgumentException($"Pair {i} has fold {folds[i]}, outside [0, {foldCount}).", nameof(folds));
            }

            sameCount += same[i] ? 1 : 0;
        }

        var accuracies = new double[foldCount];
        var thresholds = new float[foldCount];
        var trainD = new List<float>(n);
        var trainS = new List<bool>(n);
        for (int fold = 0; fold < foldCount; fold++)
        {
            trainD.Clear();
            trainS.Clear();
            for (int i = 0; i < n; i++)
            {
                if (folds[i] != fold)
                {
                    trainD.Add(distances[i]);
                    trainS.Add(same[i]);
                }
            }

            if (trainD.Count == 0)
            {
                throw new ArgumentException($"Every pair is in fold {fold}: no pairs to choose its threshold on.", nameof(folds));
            }

            float threshold = BestThreshold(trainD.ToArray(), trainS.ToArray());
            int correct = 0, tested = 0;
            for (int i = 0; i < n; i++)
            {
                if (folds[i] == fold)
                {
                    tested++;
                    correct += (distances[i] <= threshold) == same[i] ? 1 : 0;
                }
            }

            thresholds[fold] = threshold;
            accuracies[fold] = tested == 0 ? double.NaN : (double)correct / tested;
        }

        return new VerificationReport(n, sameCount, accuracies, thresholds, Auc(distances, same), far, TarAtFar(distances, same, far), ThresholdAtFar(distances, same, far));
    }

    /// <summary>
    /// The threshold that maximises accuracy on the given pairs: the midpoint between two consecutive
    /// distinct distances; among equally good cut points, the middle one of the first best run.
    /// </summary>
    internal static float BestThreshold(float[] distances, bool[] same)
    {
        int n = distances.Length;
        var order = new int[n];
        for (int i = 0; i < n; i++)
        {
            order[i] = i;
        }

        var keys = (float[])distances.Clone();
        Array.Sort(keys, order);
        int totalDifferent = 0;
        foreach (var s in same)
        {
            totalDifferent += s ? 0 : 1;
        }

        // Cut k accepts the k smallest distances: correct = same among them + different after them.
        int sameBelow = 0, differentBelow = 0;
        int best = totalDifferent, bestStart = 0, bestEnd = 0;
        bool inBestRun = true;
        for (int k = 1; k <= n; k++)
        {
            if (same[order[k - 1]])
            {
                sameBelow++;
            }
            else
            {
                differentBelow++;
            }

            if (k < n && keys[k] == keys[k - 1])
            {
                // No threshold separates equal distances.
                continue;
            }

            int correct = sameBelow + (totalDifferent - differentBelow);
            if (correct > best)
            {
                (best, bestStart, bestEnd, inBestRun) = (correct, k, k, true);
            }
            else if (correct == best && inBestRun)
            {
                bestEnd = k;
            }
            else
            {
                inBestRun = false;
            }
        }

        int cut = bestStart + ((bestEnd - bestStart) / 2);
        if (cut <= 0)
        {
            return keys[0] - Math.Max(1e-6f, MathF.Abs(keys[0]) * 1e-6f);
        }

        if (cut >= n)
        {
            return keys[n - 1] + Math.Max(1e-6f, MathF.Abs(keys[n - 1]) * 1e-6f);
        }

        return (keys[cut - 1] + keys[cut]) / 2;
    }

    /// <summary>ROC AUC: the probability that a same pair is closer than a different pair (ties count half).</summary>
    internal static double Auc(ReadOnlySpan<float> distances, ReadOnlySpan<bool> same)
    {
        int n = distances.Length;
        var keys = distances.ToArray();
        var labels = same.ToArray();
        Array.Sort(keys, labels);
        double positives = 0, negatives = 0, rankSum = 0;
        for (int i = 0; i < n;)
        {
            int j = i;
            while (j < n && keys[j] == keys[i])
            {
                j++;
            }

            // Ranks i+1 … j are tied: each gets their mean.
            double rank = (i + 1 + j) / 2.0;
            for (int k = i; k < j; k++)
            {
                if (labels[k])
                {
                    positives++;
                    rankSum += rank;
                }
                else
                {
                    negatives++;
                }
            }

            i = j;
        }

        if (positives == 0 || negatives == 0)
        {
            return double.NaN;
        }

        // Mann–Whitney U of the same pairs ranked by distance, ascending: small ranks are good.
        double u = rankSum - (positives * (positives + 1) / 2);
        return 1 - (u / (positives * negatives));
    }

    /// <summary>
    /// The share of same pairs accepted at the largest threshold that accepts at most FAR × (different pairs);
    /// null when there are fewer different pairs than 1 / FAR (the rate could not be measured).
    /// </summary>
    internal static double? TarAtFar(ReadOnlySpan<float> distances, ReadOnlySpan<bool> same, double far)
    {
        if (ThresholdAtFar(distances, same, far) is not { } limit)
        {
            return null;
        }

        int positives = 0;
        int accepted = 0;
        for (int i = 0; i < distances.Length; i++)
        {
            if (same[i])
            {
                positives++;
                accepted += distances[i] < limit ? 1 : 0;
            }
        }

        return (double)accepted / positives;
    }

    /// <summary>
    /// The distance strictly below which pairs are accepted at the false-accept rate <paramref name="far"/>: the
    /// (⌊FAR × different pairs⌋ + 1)-th smallest different-pair distance; null when it cannot be measured
    /// (no same pairs, or fewer different pairs than 1 / FAR).
    /// </summary>
    internal static float? ThresholdAtFar(ReadOnlySpan<float> distances, ReadOnlySpan<bool> same, double far)
    {
        var negatives = new List<float>();
        int positives = 0;
        for (int i = 0; i < distances.Length; i++)
        {
            if (same[i])
            {
                positives++;
            }
            else
            {
                negatives.Add(distances[i]);
            }
        }

        if (positives == 0 || negatives.Count == 0 || negatives.Count * far < 1 - 1e-9)
        {
            return null;
        }

        negatives.Sort();
        int allowed = (int)Math.Floor((negatives.Count * far) + 1e-9);
        return allowed < negatives.Count ? negatives[allowed] : float.PositiveInfinity;
    }
}
