namespace FaceIndex.Engine;

/// <summary>
/// How <see cref="FaceDatabase"/> keeps its per-collection indexes: when small collections are
/// scanned exactly, how many threads build graphs, and how often graphs are snapshotted. The host
/// binds it from configuration (section <c>Indexing</c>); the HNSW parameters themselves are
/// <see cref="FaceIndex.Index.IndexOptions"/> (section <c>Index</c>).
/// </summary>
/// <remarks>
/// Adding a setting: add the property with its default and a <c>///</c> line saying what it trades;
/// check it in <see cref="Validate"/> with a message that names it; use it in
/// <see cref="FaceDatabase"/>; list it in config/appsettings.json and the README's configuration table.
/// </remarks>
public sealed class IndexingOptions
{
    /// <summary>
    /// Collections with fewer live faces than this are searched by an exact scan of the graph's
    /// vector block instead of a graph walk: exact results, and at this size still faster than
    /// a walk. Default 20,000 (a scan of 2.5 MB).
    /// </summary>
    public int ExactSearchBelow { get; set; } = 20_000;

    /// <summary>
    /// Threads that insert acknowledged faces into the graphs; 0 (default) = one fewer than the cores
    /// (at least one), so that requests keep a core while a bulk load is being indexed.
    /// </summary>
    public int BuildThreads { get; set; }

    /// <summary>Most faces handed to the graph builder in one batch. Default 4,096.</summary>
    public int BuildBatch { get; set; } = 4096;

    /// <summary>
    /// Writes first: while faces are acknowledged faster than this (per second, measured over a quarter
    /// of a second), the builders pause, so that a bulk load runs at the store's speed and the graphs
    /// catch up when it ends. The faces meanwhile are searched exactly (complete results, slower
    /// searches as the tail grows). 0 never pauses. Default 2,000 faces/s.
    /// </summary>
    public int YieldAboveWritesPerSecond { get; set; } = 2000;

    /// <summary>Faces waiting for the graph above which the builders run even during a bulk load (bounds the exact scan of searches). Default 1,000,000.</summary>
    public int MaxPending { get; set; } = 1_000_000;

    /// <summary>
    /// Interval between snapshots of the graphs that changed; snapshots are also written at graceful
    /// shutdown. A start-up loads them and inserts only what the store holds beyond them. Default 5 minutes.
    /// </summary>
    public TimeSpan SnapshotInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Where exact scans run: <c>auto</c> (default) uses a CUDA GPU when one is found and passes a
    /// start-up check, else the CPU; <c>cpu</c> never touches a GPU; <c>cuda</c> requires one (its
    /// absence stops the start with the reason). On a GPU, large not-yet-indexed tails are scanned
    /// there and clustering uses the exact kNN graph. The host makes the choice (FaceIndex.Gpu).
    /// </summary>
    public string ScanDevice { get; set; } = "auto";

    /// <summary>Checks every setting; throws <see cref="ArgumentException"/> naming the first invalid one.</summary>
    public void Validate()
    {
        Require(ExactSearchBelow is >= 0 and <= 10_000_000, nameof(ExactSearchBelow), "must lie in [0, 10,000,000]");
        Require(BuildThreads is >= 0 and <= 256, nameof(BuildThreads), "must lie in [0, 256] (0 = cores - 1)");
        Require(BuildBatch is >= 1 and <= 1_000_000, nameof(BuildBatch), "must lie in [1, 1,000,000]");
        Require(YieldAboveWritesPerSecond >= 0, nameof(YieldAboveWritesPerSecond), "must be 0 (never pause) or positive");
        Require(MaxPending is >= 1 and <= 100_000_000, nameof(MaxPending), "must lie in [1, 100,000,000]");
        Require(SnapshotInterval >= TimeSpan.FromSeconds(1), nameof(SnapshotInterval), "must be at least 1 second");
        Require(ScanDevice is "auto" or "cpu" or "cuda", nameof(ScanDevice), $"must be auto, cpu or cuda (was '{ScanDevice}')");
    }

    /// <summary>The build thread count actually used.</summary>
    internal int EffectiveBuildThreads => BuildThreads > 0 ? BuildThreads : Math.Max(1, Environment.ProcessorCount - 1);

    private static void Require(bool ok, string name, string rule)
    {
        if (!ok)
        {
            throw new ArgumentException($"Indexing:{name} {rule}.", name);
        }
    }
}
