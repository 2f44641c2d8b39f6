namespace FaceIndex.Testing;

/// <summary>
/// Bit-exact port of the synthetic face-embedding generator of <c>shared/bench/GENERATOR.md</c>:
/// identities are unit centres in 128-D, samples are centre + N(0, σ²) noise re-normalised.
/// Every vector comes from its own splitmix64 stream, so any row can be made independently
/// and in parallel. Uses no fused multiply-add: the order of operations is the specification's.
/// </summary>
public static class SyntheticFaces
{
    /// <summary>Dimensions of every vector.</summary>
    public const int Dimensions = 128;

    /// <summary>Seed of every stream.</summary>
    public const ulong Seed = 20240601;

    /// <summary>Noise standard deviation per component.</summary>
    public const double Sigma = 0.058;

    /// <summary>Vectors per block; a base set's size is a multiple of it.</summary>
    public const int BlockSize = 100_000;

    /// <summary>Identities per block (10 samples each).</summary>
    public const int IdentitiesPerBlock = 10_000;

    /// <summary>Number of queries in a query file.</summary>
    public const int QueryCount = 1000;

    private const ulong TagCentre = 1;
    private const ulong TagBase = 2;
    private const ulong TagQuery = 3;
    private const ulong TagQueryIdentity = 4;

    /// <summary>The identity (cluster label) of base row <paramref name="row"/>.</summary>
    public static int IdentityOfBaseRow(long row) =>
        checked((int)((row / BlockSize * IdentitiesPerBlock) + (row % IdentitiesPerBlock)));

    /// <summary>The identity of query <paramref name="query"/> for a base set of <paramref name="baseCount"/> rows.</summary>
    public static int IdentityOfQuery(int query, long baseCount)
    {
        ValidateBaseCount(baseCount);
        var rng = new SplitMix64(TagQueryIdentity, (ulong)query);
        return (int)(rng.Next() % (ulong)(baseCount / 10));
    }

    /// <summary>Writes base row <paramref name="row"/> into <paramref name="destination"/> (128 floats).</summary>
    public static void BaseRow(long row, Span<float> destination)
    {
        Span<double> centre = stackalloc double[Dimensions];
        Centre(IdentityOfBaseRow(row), centre);
        Sample(centre, TagBase, (ulong)row, destination);
    }

    /// <summary>Writes query <paramref name="query"/> of the set for <paramref name="baseCount"/> rows.</summary>
    public static void QueryRow(int query, long baseCount, Span<float> destination)
    {
        Span<double> centre = stackalloc double[Dimensions];
        Centre(IdentityOfQuery(query, baseCount), centre);
        Sample(centre, TagQuery, (ulong)query, destination);
    }

    /// <summary>Generates base rows [<paramref name="start"/>, start + count) into a row-major buffer, in parallel.</summary>
    public static float[] BaseRows(long start, int count)
    {
        var data = new float[(long)count * Dimensions];
        Parallel.For(0, count, i => BaseRow(start + i, data.AsSpan(i * Dimensions, Dimensions)));
        return data;
    }

    /// <summary>Generates the <see cref="QueryCount"/> queries for a base set of <paramref name="baseCount"/> rows.</summary>
    public static float[] Queries(long baseCount)
    {
        ValidateBaseCount(baseCount);
        var data = new float[QueryCount * Dimensions];
        Parallel.For(0, QueryCount, q => QueryRow(q, baseCount, data.AsSpan(q * Dimensions, Dimensions)));
        return data;
    }

    /// <summary>The unit centre of identity <paramref name="identity"/>.</summary>
    public static void Centre(int identity, Span<double> destination)
    {
        var rng = new SplitMix64(TagCentre, (ulong)identity);
        for (int d = 0; d < Dimensions; d++)
        {
            destination[d] = Gauss(ref rng);
        }

        double ss = 0.0;
        for (int d = 0; d < Dimensions; d++)
        {
            ss += destination[d] * destination[d];
        }

        double norm = Math.Sqrt(ss);
        for (int d = 0; d < Dimensions; d++)
        {
            destination[d] /= norm;
        }
    }

    private static void Sample(ReadOnlySpan<double> centre, ulong tag, ulong index, Span<float> destination)
    {
        var rng = new SplitMix64(tag, index);
        Span<double> x = stackalloc double[Dimensions];
        for (int d = 0; d < Dimensions; d++)
        {
            double n = Gauss(ref rng);
            double t = Sigma * n;
            x[d] = centre[d] + t;
        }

        double ss = 0.0;
        for (int d = 0; d < Dimensions; d++)
        {
            ss += x[d] * x[d];
        }

        double norm = Math.Sqrt(ss);
        for (int d = 0; d < Dimensions; d++)
        {
            destination[d] = (float)(x[d] / norm);
        }
    }

    /// <summary>Irwin–Hall approximation of a standard normal from twelve 24-bit uniforms (exact in double).</summary>
    private static double Gauss(ref SplitMix64 rng)
    {
        ulong s = 0;
        for (int i = 0; i < 12; i++)
        {
            s += rng.Next() >> 40;
        }

        return ((double)s * (1.0 / 16777216.0)) - 6.0;
    }

    private static void ValidateBaseCount(long baseCount)
    {
        if (baseCount <= 0 || baseCount % BlockSize != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(baseCount), baseCount, $"The base set's size must be a positive multiple of {BlockSize}.");
        }
    }

    private struct SplitMix64
    {
        private ulong _state;

        public SplitMix64(ulong tag, ulong index)
        {
            _state = Mix(Mix(Seed ^ tag) ^ index);
        }

        public ulong Next()
        {
            unchecked
            {
                _state += 0x9E3779B97F4A7C15UL;
                return Mix(_state);
            }
        }

        private static ulong Mix(ulong z)
        {
            unchecked
            {
                z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
                z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
                return z ^ (z >> 31);
            }
        }
    }
}
