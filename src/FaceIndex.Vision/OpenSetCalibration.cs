namespace FaceIndex.Vision;

/// <summary>
/// Search thresholds from a target false-positive identification rate (FPIR: the share of searches by
/// people who are not enrolled that still match someone) and the gallery's size. The model's manifest
/// holds a grid measured on development data (<c>faceindex eval-openset</c>): for galleries of several
/// sizes, the threshold at which several FPIRs were observed. Between grid points the threshold is
/// interpolated linearly in log(size) and log(FPIR); below the smallest size the smallest size's row is
/// used (stricter than needed); beyond the largest size the last two rows' slope is extended.
/// </summary>
/// <remarks>
/// A model that treats comparisons as independent (FPIR = 1 − (1 − FAR)^n) was tried first and is far too
/// strict for large galleries (at 10,000 people it gave FPIR 0.03 % for a 1 % target, identifying 2 % of
/// the enrolled): a stranger who resembles one enrolled face resembles others too.
/// </remarks>
public sealed class OpenSetCalibration
{
    private readonly double[] _logSizes;
    private readonly double[] _logFpirs;
    private readonly float[][] _thresholds;

    /// <param name="gallerySizes">Gallery sizes of the rows, increasing, at least one.</param>
    /// <param name="fpirs">FPIR targets of the columns, increasing, in (0, 1), at least two.</param>
    /// <param name="thresholds">thresholds[row][column]: squared L2 distances in (0, 4), not decreasing along a row.</param>
    /// <exception cref="ArgumentException">The grid is empty, ragged, out of range or not ordered.</exception>
    public OpenSetCalibration(IReadOnlyList<int> gallerySizes, IReadOnlyList<double> fpirs, IReadOnlyList<IReadOnlyList<float>> thresholds)
    {
        ArgumentNullException.ThrowIfNull(gallerySizes);
        ArgumentNullException.ThrowIfNull(fpirs);
        ArgumentNullException.ThrowIfNull(thresholds);
        Require(gallerySizes.Count >= 1 && fpirs.Count >= 2 && thresholds.Count == gallerySizes.Count, "needs at least one gallery size, two FPIRs and one row of thresholds per size");
        for (int i = 0; i < gallerySizes.Count; i++)
        {
            Require(gallerySizes[i] >= 1 && (i == 0 || gallerySizes[i] > gallerySizes[i - 1]), "gallery sizes must be positive and increasing");
            Require(thresholds[i].Count == fpirs.Count, "each row needs one threshold per FPIR");
            for (int j = 0; j < fpirs.Count; j++)
            {
                float t = thresholds[i][j];
                Require(t is > 0f and < 4f && (j == 0 || t >= thresholds[i][j - 1]), "thresholds must lie in (0, 4) and not decrease as the FPIR grows");
            }
        }

        for (int j = 0; j < fpirs.Count; j++)
        {
            Require(fpirs[j] is > 0 and < 1 && (j == 0 || fpirs[j] > fpirs[j - 1]), "FPIRs must lie in (0, 1) and increase");
        }

        _logSizes = [.. gallerySizes.Select(n => Math.Log(n))];
        _logFpirs = [.. fpirs.Select(f => Math.Log(f))];
        _thresholds = [.. thresholds.Select(row => row.ToArray())];
    }

    /// <summary>
    /// The search threshold (squared L2) that keeps the FPIR of a gallery of <paramref name="gallerySize"/>
    /// faces near <paramref name="fpir"/>; an empty gallery counts as one face.
    /// </summary>
    public float ThresholdFor(double fpir, long gallerySize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(fpir);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(fpir, 1);
        double logF = Math.Log(fpir), logN = Math.Log(Math.Max(1, gallerySize));
        if (_logSizes.Length == 1 || logN <= _logSizes[0])
        {
            return (float)AlongRow(0, logF);
        }

        int upper = 1;
        while (upper < _logSizes.Length - 1 && logN > _logSizes[upper])
        {
            upper++;
        }

        double a = AlongRow(upper - 1, logF), b = AlongRow(upper, logF);
        double w = (logN - _logSizes[upper - 1]) / (_logSizes[upper] - _logSizes[upper - 1]);
        return (float)Math.Clamp(a + (w * (b - a)), 0.01, 3.99);
    }

    /// <summary>A row's threshold at log(FPIR), interpolated between columns and held at the first and last.</summary>
    private double AlongRow(int row, double logF)
    {
        var t = _thresholds[row];
        if (logF <= _logFpirs[0])
        {
            return t[0];
        }

        for (int j = 1; j < _logFpirs.Length; j++)
        {
            if (logF <= _logFpirs[j])
            {
                double w = (logF - _logFpirs[j - 1]) / (_logFpirs[j] - _logFpirs[j - 1]);
                return t[j - 1] + (w * (t[j] - t[j - 1]));
            }
        }

        return t[^1];
    }

    private static void Require(bool condition, string rule)
    {
        if (!condition)
        {
            throw new ArgumentException("An open-set calibration grid " + rule + ".");
        }
    }
}
