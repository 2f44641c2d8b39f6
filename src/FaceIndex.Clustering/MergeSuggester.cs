using FaceIndex.Core;

namespace FaceIndex.Clustering;

/// <summary>An enrolled person's codes, the candidates for merge suggestions.</summary>
/// <param name="PersonId">The client's person id.</param>
/// <param name="Vectors">The person's enrolled face codes (at least one).</param>
public readonly record struct PersonVectors(string PersonId, ReadOnlyMemory<FaceVector> Vectors);

/// <summary>A suggestion that a cluster is an enrolled person.</summary>
/// <param name="ClusterId">The cluster.</param>
/// <param name="PersonId">The person it most likely belongs to.</param>
/// <param name="Distance">Squared L2 distance between the cluster's and the person's mean directions.</param>
public readonly record struct MergeSuggestion(int ClusterId, string PersonId, float Distance);

/// <summary>
/// For each cluster, the enrolled person it most likely belongs to: the person whose mean direction
/// is nearest the cluster's centroid, when that distance is within a threshold.
/// </summary>
public static class MergeSuggester
{
    /// <summary>Suggests at most one person per cluster of at least <paramref name="minClusterSize"/> faces.</summary>
    /// <param name="result">A clustering result (its centroids are used).</param>
    /// <param name="persons">The enrolled persons; those with no vectors are skipped.</param>
    /// <param name="threshold">Largest squared L2 distance for a suggestion.</param>
    /// <param name="minClusterSize">Smallest cluster considered (1 includes singletons).</param>
    /// <param name="cancellationToken">Stops the scan.</param>
    /// <returns>Suggestions in cluster order. Cost: clusters × persons int8 dot products, in parallel.</returns>
    public static IReadOnlyList<MergeSuggestion> SuggestMerges(
        ClusteringResult result,
        IEnumerable<PersonVectors> persons,
        float threshold,
        int minClusterSize = 2,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(persons);
        ArgumentOutOfRangeException.ThrowIfLessThan(minClusterSize, 1);
        if (!(threshold > 0f && threshold <= 4f))
        {
            throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "The threshold is a squared L2 distance in (0, 4].");
        }

        var ids = new List<string>();
        var means = new List<FaceVector>();
        var centroid = new Centroid();
        foreach (var person in persons)
        {
            if (person.Vectors.IsEmpty)
            {
                continue;
            }

            centroid.Clear();
            foreach (var vector in person.Vectors.Span)
            {
                centroid.Add(vector);
            }

            ids.Add(person.PersonId);
            means.Add(centroid.ToVector());
        }

        int minDot = Similarity.MinDotForDistance(threshold);
        var best = new MergeSuggestion?[result.ClusterCount];
        var personMeans = means.ToArray();
        Parallel.For(
            0,
            result.ClusterCount,
            new ParallelOptions { CancellationToken = cancellationToken },
            c =>
            {
                if (result.GetSummary(c).Size < minClusterSize)
                {
                    return;
                }

                var clusterMean = result.GetCentroid(c);
                int bestPerson = -1;
                int bestDot = int.MinValue;
                for (int p = 0; p < personMeans.Length; p++)
                {
                    int dot = clusterMean.Dot(personMeans[p]);
                    if (dot > bestDot)
                    {
                        bestDot = dot;
                        bestPerson = p;
                    }
                }

                if (bestPerson >= 0 && bestDot >= minDot)
                {
                    best[c] = new MergeSuggestion(c, ids[bestPerson], Similarity.DistanceFromDot(bestDot));
                }
            });

        var suggestions = new List<MergeSuggestion>();
        foreach (var suggestion in best)
        {
            if (suggestion is { } s)
            {
                suggestions.Add(s);
            }
        }

        return suggestions;
    }
}
