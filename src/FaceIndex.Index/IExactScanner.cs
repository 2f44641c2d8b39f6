using FaceIndex.Core;

namespace FaceIndex.Index;

/// <summary>
/// Exact k-nearest-neighbour search by scoring every pair: a batch of queries against a corpus
/// of codes, top-k by int8 dot product per query. The clustering's all-pairs kNN graph and the
/// server's scan of not-yet-indexed faces run on it. <see cref="CpuExactScanner"/> scans on the
/// processor's cores; FaceIndex.Gpu implements it on a GPU.
/// </summary>
/// <remarks>
/// Every implementation returns identical results for identical input: per query, the corpus
/// entries with the highest scores, best first, equal scores ordered by the smaller id; the
/// contract is in <see cref="IScanCorpus.Search"/>.
/// </remarks>
public interface IExactScanner
{
    /// <summary>Where the scan runs, for logs and statistics (e.g. "CPU, 16 threads").</summary>
    string Description { get; }

    /// <summary>
    /// True when the scan runs on an accelerator (a GPU), where an all-pairs kNN graph of a million
    /// faces takes seconds: callers may then prefer the exact graph to an approximate one.
    /// </summary>
    bool IsDevice { get; }

    /// <summary>
    /// The corpus size from which one query at a time is worth sending here rather than scanning
    /// it on the calling thread (the fixed cost of a call: transfers and launches).
    /// <see cref="int.MaxValue"/> when never.
    /// </summary>
    int SingleQueryCrossover { get; }

    /// <summary>Creates an empty corpus held where this scanner computes (host or device memory).</summary>
    IScanCorpus CreateCorpus();
}

/// <summary>
/// The vectors one <see cref="IExactScanner"/> searches, mirrored from an owner's arrays
/// (position i = the owner's slot i). Not thread-safe: the owner serialises calls.
/// </summary>
public interface IScanCorpus : IDisposable
{
    /// <summary>Number of vectors searched.</summary>
    int Count { get; }

    /// <summary>
    /// Makes the corpus equal to <paramref name="vectors"/> and <paramref name="ids"/> (same length),
    /// copying only positions from <paramref name="from"/> on: positions before it must be unchanged
    /// since the previous call (0 copies everything).
    /// </summary>
    /// <exception cref="ArgumentException">The spans differ in length or <paramref name="from"/> is beyond them.</exception>
    void Sync(ReadOnlySpan<FaceVector> vectors, ReadOnlySpan<long> ids, int from);

    /// <summary>
    /// For each query q, the up to <paramref name="k"/> corpus entries with the highest int8 dot
    /// product that is at least <paramref name="minScore"/>, best first, equal scores by the smaller
    /// id; an entry whose id equals <c>excludedIds[q]</c> is skipped (no exclusions when
    /// <paramref name="excludedIds"/> is empty).
    /// </summary>
    /// <param name="queries">The query codes.</param>
    /// <param name="excludedIds">Empty, or one id per query (a query's own id in an all-pairs scan).</param>
    /// <param name="k">Neighbours per query, at least 1.</param>
    /// <param name="minScore">The lowest score returned.</param>
    /// <param name="hits">Query q's results at <c>[q·k, q·k + counts[q])</c>; at least queries × k long.</param>
    /// <param name="counts">Results per query; at least one per query.</param>
    /// <param name="progress">Called from worker threads with the number of queries just finished.</param>
    /// <param name="cancellationToken">Stops between batches of queries.</param>
    /// <exception cref="ArgumentException">A span is too short, or <paramref name="k"/> is below 1.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    void Search(
        ReadOnlyMemory<FaceVector> queries,
        ReadOnlyMemory<long> excludedIds,
        int k,
        int minScore,
        Memory<ScanHit> hits,
        Memory<int> counts,
        Action<int>? progress = null,
        CancellationToken cancellationToken = default);
}

/// <summary>One result of an exact scan: the corpus position and its int8 dot product with the query.</summary>
/// <param name="Index">The position in the corpus.</param>
/// <param name="Score">The raw int8 dot product (higher is closer).</param>
public readonly record struct ScanHit(int Index, int Score);
