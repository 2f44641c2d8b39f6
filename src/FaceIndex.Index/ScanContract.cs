using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace FaceIndex.Index;

/// <summary>
/// The rules every <see cref="IExactScanner"/> shares: argument checks, done once at the edge,
/// and the order of results.
/// </summary>
public static class ScanContract
{
    /// <summary>The most vectors a corpus holds: positions and packed words stay within 32-bit indices.</summary>
    public const int MaxCorpus = int.MaxValue / 32;

    /// <summary>Checks the arguments of <see cref="IScanCorpus.Sync"/>.</summary>
    /// <exception cref="ArgumentException">The lengths differ, exceed <see cref="MaxCorpus"/>, or <paramref name="from"/> lies beyond them.</exception>
    public static void ValidateSync(int vectors, int ids, int from)
    {
        if (vectors != ids)
        {
            Throw($"{vectors} vectors but {ids} ids.", nameof(ids));
        }

        if (vectors > MaxCorpus)
        {
            Throw($"{vectors} vectors exceed the {MaxCorpus} a corpus holds.", nameof(vectors));
        }

        if ((uint)from > (uint)vectors)
        {
            Throw($"Copy start {from} lies outside the corpus of {vectors}.", nameof(from));
        }
    }

    /// <summary>Checks the arguments of <see cref="IScanCorpus.Search"/>.</summary>
    /// <exception cref="ArgumentException">A length is wrong or k is below 1.</exception>
    public static void ValidateSearch(int queries, int excludedIds, int k, int hits, int counts)
    {
        if (k < 1)
        {
            Throw($"k = {k}; at least 1 neighbour per query.", nameof(k));
        }

        if (excludedIds != 0 && excludedIds != queries)
        {
            Throw($"{excludedIds} excluded ids for {queries} queries; give none or one per query.", nameof(excludedIds));
        }

        if ((long)queries * k > hits)
        {
            Throw($"{hits} result slots for {queries} queries × k = {k}.", nameof(hits));
        }

        if (counts < queries)
        {
            Throw($"{counts} counts for {queries} queries.", nameof(counts));
        }
    }

    /// <summary>True when a result (score, id) ranks before another: higher score, or equal score and smaller id.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Before(int score, long id, int otherScore, long otherId) =>
        score > otherScore || (score == otherScore && id < otherId);

    [DoesNotReturn]
    private static void Throw(string message, string parameter) => throw new ArgumentException(message, parameter);
}
