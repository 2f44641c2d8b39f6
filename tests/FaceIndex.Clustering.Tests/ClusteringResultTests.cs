using FaceIndex.Core;

namespace FaceIndex.Clustering.Tests;

public sealed class ClusteringResultTests
{
    private static (long[] Ids, FaceVector[] Vectors, int[] Labels) Assignment()
    {
        var random = new Random(3);
        var small = TestFaces.Around(TestFaces.Axis(70), 2, 0.03, random);
        var big = TestFaces.Around(TestFaces.Axis(4), 4, 0.05, random);
        var lone = TestFaces.Around(TestFaces.Axis(90), 1, 0.03, random);
        FaceVector[] vectors = [small[0], big[0], lone[0], big[1], small[1], big[2], big[3]];
        long[] ids = [50, 40, 30, 20, 10, 5, 1];
        int[] labels = [-7, 99, 3, 99, -7, 99, 99];
        return (ids, vectors, labels);
    }

    [Fact]
    public void Clusters_are_numbered_largest_first_and_list_their_members_in_input_order()
    {
        var (ids, vectors, labels) = Assignment();

        var result = ClusteringResult.FromAssignments(ids, vectors, labels);

        Assert.Equal(7, result.FaceCount);
        Assert.Equal(3, result.ClusterCount);
        Assert.Equal([1, 0, 2, 0, 1, 0, 0], result.ClusterIds.ToArray());
        Assert.Equal([40L, 20, 5, 1], result.GetMembers(0).ToArray());
        Assert.Equal([50L, 10], result.GetMembers(1).ToArray());
        Assert.Equal([30L], result.GetMembers(2).ToArray());
        Assert.Equal([4, 2, 1], result.Clusters.Select(c => c.Size));
        Assert.True(result.TryGetClusterId(10, out int cluster));
        Assert.Equal(1, cluster);
        Assert.False(result.TryGetClusterId(11, out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => result.GetMembers(3).ToArray());
    }

    [Fact]
    public void Representative_is_the_member_nearest_the_mean_and_the_centroid_points_at_the_mean()
    {
        var (ids, vectors, labels) = Assignment();

        var result = ClusteringResult.FromAssignments(ids, vectors, labels);

        int[] bigRows = [1, 3, 5, 6];
        var mean = new double[FaceVector.Dimensions];
        foreach (int row in bigRows)
        {
            var unit = Unit(vectors[row]);
            for (int d = 0; d < mean.Length; d++)
            {
                mean[d] += unit[d];
            }
        }

        int nearest = bigRows.MaxBy(row => Cosine(Unit(vectors[row]), mean));
        Assert.Equal(ids[nearest], result.GetSummary(0).RepresentativeFaceId);
        Assert.True(Cosine(Unit(result.GetCentroid(0)), mean) > 0.999);
        Assert.Equal(vectors[2], result.GetCentroid(2));
        Assert.Equal(30, result.GetSummary(2).RepresentativeFaceId);
    }

    [Fact]
    public void Mismatched_lengths_are_refused()
    {
        var (ids, vectors, labels) = Assignment();

        Assert.Throws<ArgumentException>(() => ClusteringResult.FromAssignments(ids, vectors, labels.AsSpan(1)));
    }

    private static double[] Unit(FaceVector v)
    {
        var x = v.AsSpan().ToArray().Select(c => (double)c).ToArray();
        double norm = Math.Sqrt(x.Sum(c => c * c));
        return x.Select(c => c / norm).ToArray();
    }

    private static double Cosine(double[] a, double[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (int d = 0; d < a.Length; d++)
        {
            dot += a[d] * b[d];
            na += a[d] * a[d];
            nb += b[d] * b[d];
        }

        return dot / Math.Sqrt(na * nb);
    }
}
