using FaceIndex.Core;
using FaceIndex.Vision;

namespace FaceIndex.Evaluation;

/// <summary>
/// Fits a <see cref="CodeMap"/> by ridge least squares: W, b minimising Σ‖W·x + b − y‖² + λ‖W‖² over
/// faces embedded by both models, x the source model's stored code read back as floats, y the target
/// model's unit 128-D vector (before quantization). The normal equations (129 × 129 with the bias) are
/// solved by Cholesky decomposition; λ is chosen among a few multiples of the mean eigenvalue by
/// cross-validation with identities held out (no identity is on both sides of a fold).
/// </summary>
public static class CodeMapFitter
{
    private const int D = FaceVector.Dimensions;

    /// <summary>The ridge strengths tried, as multiples of the mean eigenvalue of XᵀX (n / 128 for unit rows).</summary>
    public static IReadOnlyList<double> RidgeCandidates { get; } = [1e-4, 1e-3, 1e-2, 1e-1, 1];

    /// <summary>What the fit chose and how well it held out.</summary>
    /// <param name="Ridge">The chosen multiple of the mean eigenvalue.</param>
    /// <param name="HeldOutCosine">Mean cosine between mapped and true target vectors on held-out identities, per candidate.</param>
    public sealed record FitReport(double Ridge, IReadOnlyDictionary<double, double> HeldOutCosine);

    /// <summary>Fits the map on every sample, with λ chosen by <paramref name="folds"/>-fold cross-validation over <paramref name="identities"/>.</summary>
    /// <param name="from">Source embedder.</param>
    /// <param name="to">Target embedder.</param>
    /// <param name="sources">Source codes.</param>
    /// <param name="targets">Target unit vectors (128 floats each), one per source code.</param>
    /// <param name="identities">Identity of each sample (a fold never splits one).</param>
    /// <param name="folds">Number of folds (at least 2).</param>
    /// <exception cref="ArgumentException">Ragged input, or fewer samples than 2 × 129.</exception>
    public static (CodeMap Map, FitReport Report) Fit(EmbedderKind from, EmbedderKind to, IReadOnlyList<FaceVector> sources, IReadOnlyList<float[]> targets, IReadOnlyList<string> identities, int folds = 5)
    {
        if (sources.Count != targets.Count || sources.Count != identities.Count)
        {
            throw new ArgumentException($"{sources.Count} source codes, {targets.Count} targets and {identities.Count} identities: one of each per face is needed.");
        }

        if (sources.Count < 2 * (D + 1) || folds < 2)
        {
            throw new ArgumentException($"Fitting a code map needs at least {2 * (D + 1)} faces embedded by both models and 2 folds; got {sources.Count} and {folds}.");
        }

        var x = new double[sources.Count][];
        Span<float> floats = stackalloc float[D];
        for (int i = 0; i < x.Length; i++)
        {
            if (targets[i].Length != D)
            {
                throw new ArgumentException($"Target vector {i} has {targets[i].Length} components; {D} are needed.");
            }

            Quantizer.Dequantize(sources[i], floats);
            x[i] = new double[D + 1];
            for (int k = 0; k < D; k++)
            {
                x[i][k] = floats[k];
            }

            x[i][D] = 1;
        }

        // Folds by identity: each identity's faces go to one fold, in a fixed order of names.
        var names = identities.Distinct(StringComparer.Ordinal).OrderBy(n => n, StringComparer.Ordinal).ToList();
        var foldOfName = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < names.Count; i++)
        {
            foldOfName[names[i]] = i % folds;
        }

        var fold = identities.Select(n => foldOfName[n]).ToArray();
        var mapped = new float[D];
        var scores = new Dictionary<double, double>();
        foreach (double ridge in RidgeCandidates)
        {
            double sum = 0;
            int count = 0;
            for (int f = 0; f < folds; f++)
            {
                var train = Enumerable.Range(0, x.Length).Where(i => fold[i] != f).ToArray();
                var test = Enumerable.Range(0, x.Length).Where(i => fold[i] == f).ToArray();
                if (test.Length == 0)
                {
                    continue;
                }

                var map = Solve(from, to, x, targets, train, ridge);
                foreach (int i in test)
                {
                    map.Apply(ToFloats(x[i]), mapped);
                    sum += VectorMath.Dot(mapped, targets[i]);
                    count++;
                }
            }

            scores[ridge] = sum / count;
        }

        double best = scores.MaxBy(s => s.Value).Key;
        return (Solve(from, to, x, targets, [.. Enumerable.Range(0, x.Length)], best), new FitReport(best, scores));
    }

    private static float[] ToFloats(double[] augmented)
    {
        var values = new float[D];
        for (int k = 0; k < D; k++)
        {
            values[k] = (float)augmented[k];
        }

        return values;
    }

    /// <summary>Ridge least squares on the rows <paramref name="rows"/>; the bias is not penalised.</summary>
    private static CodeMap Solve(EmbedderKind from, EmbedderKind to, double[][] x, IReadOnlyList<float[]> y, int[] rows, double ridge)
    {
        const int n = D + 1;
        var a = new double[n, n];
        var b = new double[n, D];
        foreach (int r in rows)
        {
            var xr = x[r];
            var yr = y[r];
            for (int i = 0; i < n; i++)
            {
                double xi = xr[i];
                for (int j = 0; j <= i; j++)
                {
                    a[i, j] += xi * xr[j];
                }

                for (int k = 0; k < D; k++)
                {
                    b[i, k] += xi * yr[k];
                }
            }
        }

        double lambda = ridge * rows.Length / D;
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < i; j++)
            {
                a[j, i] = a[i, j];
            }

            if (i < D)
            {
                a[i, i] += lambda;
            }
        }

        var l = Cholesky(a);
        var matrix = new float[D * D];
        var bias = new float[D];
        var column = new double[n];
        for (int k = 0; k < D; k++)
        {
            for (int i = 0; i < n; i++)
            {
                column[i] = b[i, k];
            }

            SolveInPlace(l, column);
            for (int i = 0; i < D; i++)
            {
                matrix[(k * D) + i] = (float)column[i];
            }

            bias[k] = (float)column[D];
        }

        return new CodeMap(from, to, matrix, bias, rows.Length);
    }

    /// <summary>The lower-triangular L with L·Lᵀ = A, for a symmetric positive-definite A.</summary>
    internal static double[,] Cholesky(double[,] a)
    {
        int n = a.GetLength(0);
        var l = new double[n, n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j <= i; j++)
            {
                double sum = a[i, j];
                for (int k = 0; k < j; k++)
                {
                    sum -= l[i, k] * l[j, k];
                }

                if (i == j)
                {
                    if (sum <= 0)
                    {
                        throw new ArgumentException("The normal equations are singular: the faces do not span the code space (too few, or all alike).");
                    }

                    l[i, i] = Math.Sqrt(sum);
                }
                else
                {
                    l[i, j] = sum / l[j, j];
                }
            }
        }

        return l;
    }

    /// <summary>Solves L·Lᵀ·v = c in place (c becomes v).</summary>
    internal static void SolveInPlace(double[,] l, double[] c)
    {
        int n = c.Length;
        for (int i = 0; i < n; i++)
        {
            double sum = c[i];
            for (int k = 0; k < i; k++)
            {
                sum -= l[i, k] * c[k];
            }

            c[i] = sum / l[i, i];
        }

        for (int i = n - 1; i >= 0; i--)
        {
            double sum = c[i];
            for (int k = i + 1; k < n; k++)
            {
                sum -= l[k, i] * c[k];
            }

            c[i] = sum / l[i, i];
        }
    }
}
