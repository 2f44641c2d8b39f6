using FaceIndex.Core;

namespace FaceIndex.Clustering;

public sealed partial class ClusteringResult
{
    /// <summary>
    /// Builds a result from any assignment of faces to groups (labels need not be dense): numbers the
    /// groups by size, and computes each one's centroid and representative. Used by the algorithms,
    /// and by hosts that reload assignments they persisted.
    /// </summary>
    /// <param name="faceIds">The face ids; unique.</param>
    /// <param name="vectors">The codes, aligned with <paramref name="faceIds"/>.</param>
    /// <param name="labels">Any group label per face, aligned with <paramref name="faceIds"/>.</param>
    /// <exception cref="ArgumentException">The spans differ in length.</exception>
    public static ClusteringResult FromAssignments(ReadOnlySpan<long> faceIds, ReadOnlySpan<FaceVector> vectors, ReadOnlySpan<int> labels)
    {
        if (faceIds.Length != vectors.Length || faceIds.Length != labels.Length)
        {
            throw new ArgumentException($"{faceIds.Length} face ids, {vectors.Length} vectors and {labels.Length} labels must match.", nameof(labels));
        }

        int n = faceIds.Length;

        // Dense group per row, in order of first appearance.
        var group = new int[n];
        var denseOf = new Dictionary<int, int>();
        var sizes = new List<int>();
        for (int row = 0; row < n; row++)
        {
            if (!denseOf.TryGetValue(labels[row], out int g))
            {
                g = sizes.Count;
                denseOf.Add(labels[row], g);
                sizes.Add(0);
            }

            group[row] = g;
            sizes[g]++;
        }

        // Cluster id = rank by size (descending), ties by first appearance.
        int count = sizes.Count;
        var byRank = new int[count];
        for (int g = 0; g < count; g++)
        {
            byRank[g] = g;
        }

        Array.Sort(byRank, (a, b) => sizes[a] != sizes[b] ? sizes[b].CompareTo(sizes[a]) : a.CompareTo(b));
        var clusterOfGroup = new int[count];
        var memberStart = new int[count + 1];
        for (int c = 0; c < count; c++)
        {
            clusterOfGroup[byRank[c]] = c;
            memberStart[c + 1] = memberStart[c] + sizes[byRank[c]];
        }

        var clusterIds = new int[n];
        var rows = new int[n];
        var fill = memberStart.AsSpan(0, count).ToArray();
        for (int row = 0; row < n; row++)
        {
            int c = clusterOfGroup[group[row]];
            clusterIds[row] = c;
            rows[fill[c]++] = row;
        }

        var members = new long[n];
        var representatives = new long[count];
        var centroids = new FaceVector[count];
        var centroid = new Centroid();
        for (int c = 0; c < count; c++)
        {
            var clusterRows = rows.AsSpan(memberStart[c], memberStart[c + 1] - memberStart[c]);
            centroid.Clear();
            foreach (int row in clusterRows)
            {
                centroid.Add(vectors[row]);
            }

            int best = clusterRows[0];
            double bestDistance = double.MaxValue;
            for (int m = 0; m < clusterRows.Length; m++)
            {
                int row = clusterRows[m];
                members[memberStart[c] + m] = faceIds[row];
                double distance = clusterRows.Length == 1 ? 0 : centroid.Distance(vectors[row]);
                if (distance < bestDistance)
                {
                    best = row;
                    bestDistance = distance;
                }
            }

            representatives[c] = faceIds[best];
            centroids[c] = clusterRows.Length == 1 ? vectors[best] : centroid.ToVector();
        }

        return new ClusteringResult(faceIds.ToArray(), clusterIds, memberStart, members, representatives, centroids);
    }
}
