using FaceIndex.Core;
using FaceIndex.Evaluation;

namespace FaceIndex.Vision.Tests;

/// <summary>The projection artifact format and the PCA fit.</summary>
public sealed class ProjectionTests
{
    [Fact]
    public void The_artifact_round_trips()
    {
        var projection = PcaFitter.Fit(Samples(300, 16, seed: 1), 4);
        var copy = Projection.Read(projection.ToBytes());
        Assert.Equal(projection.Mean, copy.Mean);
        Assert.Equal(projection.Matrix, copy.Matrix);
        Assert.Equal(projection.Variance, copy.Variance);
        Assert.Equal(300, copy.Samples);
    }

    [Theory]
    [InlineData("magic")]
    [InlineData("length")]
    [InlineData("nan")]
    public void A_damaged_artifact_is_ModelMissing(string damage)
    {
        var bytes = PcaFitter.Fit(Samples(100, 8, seed: 2), 2).ToBytes();
        switch (damage)
        {
            case "magic":
                bytes[0] = (byte)'X';
                break;
            case "length":
                bytes = bytes[..^4];
                break;
            default:
                BitConverter.GetBytes(float.NaN).CopyTo(bytes, 24);
                break;
        }

        var error = Assert.Throws<FaceIndexException>(() => Projection.Read(bytes));
        Assert.Equal(FaceIndexError.ModelMissing, error.Error);
    }

    [Fact]
    public void Pca_recovers_the_axes_of_largest_variance()
    {
        // Data along e3 (σ = 5) and e0 (σ = 2), small noise elsewhere: the fit finds e3 then e0.
        var random = new Random(5);
        var samples = new List<float[]>();
        for (int k = 0; k < 2000; k++)
        {
            var v = new float[6];
            for (int i = 0; i < v.Length; i++)
            {
                v[i] = (float)(0.1 * Gaussian(random));
            }

            v[3] += (float)(5 * Gaussian(random));
            v[0] += (float)(2 * Gaussian(random));
            samples.Add(v);
        }

        var p = PcaFitter.Fit(samples, 2);
        Assert.True(Math.Abs(p.Matrix[3]) > 0.999, "first axis ≈ e3");
        Assert.True(Math.Abs(p.Matrix[6 + 0]) > 0.999, "second axis ≈ e0");
        Assert.InRange(p.Variance[0], 23f, 27f);
        Assert.InRange(p.Variance[1], 3.6f, 4.4f);
        Assert.InRange(PcaFitter.ExplainedVariance(p, samples), 0.99, 1.0);
    }

    [Fact]
    public void Apply_gives_a_unit_vector()
    {
        var samples = Samples(300, 64, seed: 3);
        var p = PcaFitter.Fit(samples, 16);
        var y = new float[16];
        p.Apply(samples[0], y);
        Assert.Equal(1f, MathF.Sqrt(VectorMath.Dot(y, y)), 4);
    }

    [Fact]
    public void Fitting_needs_more_samples_than_dimensions()
    {
        Assert.Throws<ArgumentException>(() => PcaFitter.Fit(Samples(10, 16, seed: 4), 10));
    }

    private static List<float[]> Samples(int count, int dimensions, int seed)
    {
        var random = new Random(seed);
        var samples = new List<float[]>(count);
        for (int k = 0; k < count; k++)
        {
            var v = new float[dimensions];
            for (int i = 0; i < dimensions; i++)
            {
                v[i] = (float)(Gaussian(random) / (1 + i));
            }

            VectorMath.Normalize(v);
            samples.Add(v);
        }

        return samples;
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
