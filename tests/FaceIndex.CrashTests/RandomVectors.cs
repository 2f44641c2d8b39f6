using FaceIndex.Core;

namespace FaceIndex.Testing;

/// <summary>Random face codes for load tools (linked into bench/FaceIndex.Benchmarks too).</summary>
internal static class RandomVectors
{
    /// <summary>A random quantized unit vector: Gaussian components (Box-Muller), normalised, so directions are uniform on the sphere.</summary>
    public static FaceVector Next(Random random)
    {
        Span<float> x = stackalloc float[FaceVector.Dimensions];
        double norm = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double u = 1.0 - random.NextDouble();
            double v = random.NextDouble();
            x[i] = (float)(Math.Sqrt(-2 * Math.Log(u)) * Math.Cos(2 * Math.PI * v));
            norm += x[i] * x[i];
        }

        float scale = (float)(1 / Math.Sqrt(norm));
        for (int i = 0; i < x.Length; i++)
        {
            x[i] *= scale;
        }

        return Quantizer.QuantizeUnit(x);
    }
}
