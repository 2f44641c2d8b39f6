namespace FaceIndex.Vision;

/// <summary>
/// Search thresholds from a target false-positive identification rate (FPIR): the share of searches by
/// people who are not enrolled that still match someone. With a gallery of n faces and a per-comparison
/// false-accept rate f(t) at distance t, a stranger matches no one with probability (1 − f)^n, so the
/// threshold for a target FPIR p is the distance at which f = 1 − (1 − p)^(1/n). f(t) is the model's
/// measured impostor distribution (the manifest's identification.impostorTail, distances of
/// different-person pairs of development images); between its points the rate is interpolated in log scale.
/// </summary>
public sealed class OpenSetCalibration
{
    private readonly (double Far, float Distance)[] _tail;

    /// <param name="tail">Points (per-comparison false-accept rate, squared L2 distance), in any order; both strictly increasing together.</param>
    /// <exception cref="ArgumentException">Fewer than two points, a rate outside (0, 1) or a distance outside (0, 4), or not increasing together.</exception>
    public OpenSetCalibration(IEnumerable<(double Far, float Distance)> tail)
    {
        ArgumentNullException.ThrowIfNull(tail);
        _tail = [.. tail.OrderBy(p => p.Far)];
        if (_tail.Length < 2)
        {
            throw new ArgumentException("An impostor tail needs at least two points.", nameof(tail));
        }

        for (int i = 0; i < _tail.Length; i++)
        {
            var (far, distance) = _tail[i];
            if (far is not (> 0 and < 1) || distance is not (> 0f and < 4f) || (i > 0 && (far <= _tail[i - 1].Far || distance <= _tail[i - 1].Distance)))
            {
                throw new ArgumentException($"Impostor tail point {i} ({far}, {distance}) is out of range or not increasing: rates lie in (0, 1), distances in (0, 4), both increasing together.", nameof(tail));
            }
        }
    }

    /// <summary>The smallest per-comparison false-accept rate measured; below it the threshold is held at the smallest distance measured.</summary>
    public double SmallestMeasuredFar => _tail[0].Far;

    /// <summary>The per-comparison false-accept rate that gives <paramref name="fpir"/> over a gallery of <paramref name="gallerySize"/> faces.</summary>
    public static double PerComparisonFar(double fpir, long gallerySize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(fpir);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(fpir, 1);

        // 1 − (1 − p)^(1/n) = −expm1(y) with y = ln(1 − p) / n; a short series where exp(y) − 1 would cancel.
        double y = Math.Log(1 - fpir) / Math.Max(1, gallerySize);
        return Math.Abs(y) < 1e-5 ? -(y + (y * y / 2) + (y * y * y / 6)) : -(Math.Exp(y) - 1);
    }

    /// <summary>The per-comparison false-accept rate of a distance threshold (log-interpolated; clamped to the measured range).</summary>
    public double FarAt(float distance)
    {
        if (distance <= _tail[0].Distance)
        {
            return _tail[0].Far;
        }

        for (int i = 1; i < _tail.Length; i++)
        {
            if (distance <= _tail[i].Distance)
            {
                var (f0, d0) = _tail[i - 1];
                var (f1, d1) = _tail[i];
                double w = (distance - d0) / (d1 - d0);
                return Math.Exp(Math.Log(f0) + (w * (Math.Log(f1) - Math.Log(f0))));
            }
        }

        return _tail[^1].Far;
    }

    /// <summary>
    /// The search threshold (squared L2) that keeps the FPIR of a gallery of <paramref name="gallerySize"/>
    /// faces at about <paramref name="fpir"/>; an empty gallery counts as one face.
    /// </summary>
    public float ThresholdFor(double fpir, long gallerySize)
    {
        double far = PerComparisonFar(fpir, gallerySize);
        if (far <= _tail[0].Far)
        {
            return _tail[0].Distance;
        }

        for (int i = 1; i < _tail.Length; i++)
        {
            if (far <= _tail[i].Far)
            {
                var (f0, d0) = _tail[i - 1];
                var (f1, d1) = _tail[i];
                double w = (Math.Log(far) - Math.Log(f0)) / (Math.Log(f1) - Math.Log(f0));
                return (float)(d0 + (w * (d1 - d0)));
            }
        }

        return _tail[^1].Distance;
    }
}
