using FaceIndex.Vision;

namespace FaceIndex.Evaluation;

/// <summary>
/// Fits a <see cref="Projection"/> by principal component analysis: mean and covariance of the
/// (unit) embeddings, eigen-decomposition by cyclic Jacobi rotations, the leading axes kept.
/// </summary>
public static class PcaFitter
{
    /// <summary>Fits the projection onto the <paramref name="outputDimensions"/> leading principal axes.</summary>
    /// <exception cref="ArgumentException">Fewer samples than output dimensions, or ragged input.</exception>
    public static Projection Fit(IReadOnlyList<float[]> samples, int outputDimensions)
    {
        if (samples.Count <= outputDimensions)
        {
            throw new ArgumentException($"PCA to {outputDimensions} dimensions needs more than {outputDimensions} samples; got {samples.Count}.", nameof(samples));
        }

        int n = samples[0].Length;
        var mean = new double[n];
        foreach (var s in samples)
        {
            if (s.Length != n)
            {
                throw new ArgumentException("Every sample must have the same length.", nameof(samples));
            }

            for (int i = 0; i < n; i++)
            {
                mean[i] += s[i];
            }
        }

        for (int i = 0; i < n; i++)
        {
            mean[i] /= samples.Count;
        }

        var cov = new double[n, n];
        var centred = new double[n];
        foreach (var s in samples)
        {
            for (int i = 0; i < n; i++)
            {
                centred[i] = s[i] - mean[i];
            }

            for (int i = 0; i < n; i++)
            {
                double ci = centred[i];
                for (int j = i; j < n; j++)
                {
                    cov[i, j] += ci * centred[j];
                }
            }
        }

        for (int i = 0; i < n; i++)
        {
            for (int j = i; j < n; j++)
            {
                cov[i, j] /= samples.Count - 1;
                cov[j, i] = cov[i, j];
            }
        }

        var (values, vectors) = SymmetricEigen.Decompose(cov);
        var order = Enumerable.Range(0, n).OrderByDescending(i => values[i]).ToArray();

        var matrix = new float[outputDimensions * n];
        var variance = new float[outputDimensions];
        for (int row = 0; row < outputDimensions; row++)
        {
            int k = order[row];
            variance[row] = (float)values[k];

            // Sign convention: the largest-magnitude component of each axis is positive (deterministic output).
            int argMax = 0;
            for (int i = 1; i < n; i++)
            {
                if (Math.Abs(vectors[i, k]) > Math.Abs(vectors[argMax, k]))
                {
                    argMax = i;
                }
            }

            double sign = vectors[argMax, k] < 0 ? -1 : 1;
            for (int i = 0; i < n; i++)
            {
                matrix[(row * n) + i] = (float)(sign * vectors[i, k]);
            }
        }

        return new Projection(n, outputDimensions, mean.Select(x => (float)x).ToArray(), matrix, variance, samples.Count);
    }

    /// <summary>Share of the total variance kept by the fitted axes.</summary>
    public static double ExplainedVariance(Projection projection, IReadOnlyList<float[]> samples)
    {
        double total = 0;
        foreach (var s in samples)
        {
            for (int i = 0; i < s.Length; i++)
            {
                double d = s[i] - projection.Mean[i];
                total += d * d;
            }
        }

        total /= samples.Count - 1;
        return projection.Variance.Sum(v => (double)v) / total;
    }
}
