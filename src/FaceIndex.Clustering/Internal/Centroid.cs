using FaceIndex.Core;

namespace FaceIndex.Clustering;

/// <summary>
/// The mean direction of a group of codes, kept as exact int64 component sums, and the
/// squared L2 distance of a member's unit vector to it.
/// </summary>
internal sealed class Centroid
{
    private readonly long[] _sum = new long[FaceVector.Dimensions];
    private double _norm;

    public void Clear()
    {
        Array.Clear(_sum);
        _norm = 0;
    }

    public void Add(in FaceVector vector)
    {
        var c = vector.AsSpan();
        for (int d = 0; d < _sum.Length; d++)
        {
            _sum[d] += c[d];
        }

        _norm = -1;
    }

    /// <summary>Squared L2 distance between the unit vectors of <paramref name="vector"/> and the centroid.</summary>
    public double Distance(in FaceVector vector)
    {
        if (_norm < 0)
        {
            double ss = 0;
            foreach (long s in _sum)
            {
                ss += (double)s * s;
            }

            _norm = Math.Sqrt(ss);
        }

        var c = vector.AsSpan();
        long dot = 0;
        long self = 0;
        for (int d = 0; d < _sum.Length; d++)
        {
            dot += c[d] * _sum[d];
            self += c[d] * c[d];
        }

        if (_norm == 0 || self == 0)
        {
            return 2.0;
        }

        return 2.0 - (2.0 * dot / (_norm * Math.Sqrt(self)));
    }

    /// <summary>The centroid's direction as a code.</summary>
    public FaceVector ToVector()
    {
        if (Array.TrueForAll(_sum, s => s == 0))
        {
            return default;
        }

        Span<float> unit = stackalloc float[FaceVector.Dimensions];
        for (int d = 0; d < unit.Length; d++)
        {
            unit[d] = _sum[d];
        }

        return Quantizer.Quantize(unit);
    }
}
