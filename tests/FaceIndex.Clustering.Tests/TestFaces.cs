using FaceIndex.Core;
using FaceIndex.Testing;

namespace FaceIndex.Clustering.Tests;

/// <summary>A labelled face set: ids, codes and the true identity of each face.</summary>
internal sealed record LabelledSet(long[] Ids, FaceVector[] Vectors, int[] Labels)
{
    public int Count => Ids.Length;

    public BruteForceIndex Index() => BruteForceIndex.Of(Ids, Vectors);
}

/// <summary>Builders of labelled face sets with known answers.</summary>
internal static class TestFaces
{
    /// <summary>
    /// The rows of the GENERATOR.md base set (first block) whose identity is below
    /// <paramref name="identities"/>: 10 samples per identity, ids = base row numbers.
    /// </summary>
    public static LabelledSet SyntheticMixture(int identities)
    {
        int n = identities * 10;
        var ids = new long[n];
        var vectors = new FaceVector[n];
        var labels = new int[n];
        Span<float> row = stackalloc float[FaceVector.Dimensions];
        int i = 0;
        for (int sample = 0; sample < 10; sample++)
        {
            for (int identity = 0; identity < identities; identity++)
            {
                long baseRow = (sample * (long)SyntheticFaces.IdentitiesPerBlock) + identity;
                SyntheticFaces.BaseRow(baseRow, row);
                ids[i] = baseRow;
                vectors[i] = Quantizer.QuantizeUnit(row);
                labels[i] = SyntheticFaces.IdentityOfBaseRow(baseRow);
                i++;
            }
        }

        return new LabelledSet(ids, vectors, labels);
    }

    /// <summary>Unit vector along axis <paramref name="axis"/> plus a little of axis + 1 (a distinct direction).</summary>
    public static double[] Axis(int axis)
    {
        var v = new double[FaceVector.Dimensions];
        v[axis] = 1;
        return v;
    }

    /// <summary>The unit direction of a weighted sum of two directions.</summary>
    public static double[] Blend(double[] a, double[] b, double weightOfB)
    {
        var v = new double[FaceVector.Dimensions];
        for (int d = 0; d < v.Length; d++)
        {
            v[d] = ((1 - weightOfB) * a[d]) + (weightOfB * b[d]);
        }

        return v;
    }

    /// <summary><paramref name="count"/> codes around a centre: centre + N(0, sigma²) per component, normalised.</summary>
    public static FaceVector[] Around(double[] centre, int count, double sigma, Random random)
    {
        var codes = new FaceVector[count];
        for (int i = 0; i < count; i++)
        {
            codes[i] = Code(centre, sigma, random);
        }

        return codes;
    }

    /// <summary>One noisy code of a direction.</summary>
    public static FaceVector Code(double[] centre, double sigma, Random random)
    {
        var x = new float[FaceVector.Dimensions];
        for (int d = 0; d < x.Length; d++)
        {
            x[d] = (float)(centre[d] + (sigma * Gaussian(random)));
        }

        return Quantizer.Quantize(x);
    }

    /// <summary>Concatenates groups into a labelled set with ids 1000, 1001, … and group index as label.</summary>
    public static LabelledSet FromGroups(params FaceVector[][] groups)
    {
        var vectors = groups.SelectMany(g => g).ToArray();
        var labels = groups.SelectMany((g, label) => Enumerable.Repeat(label, g.Length)).ToArray();
        var ids = Enumerable.Range(0, vectors.Length).Select(i => 1000L + (7L * i)).ToArray();
        return new LabelledSet(ids, vectors, labels);
    }

    private static double Gaussian(Random random)
    {
        double u1 = 1.0 - random.NextDouble();
        double u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}
