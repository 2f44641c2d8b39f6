namespace FaceIndex.Index;

/// <summary>
/// Parameters of an <see cref="HnswIndex"/>. The host binds them from configuration
/// (section <c>Index</c>) and calls <see cref="Validate"/> at start-up; the index never reads
/// configuration itself.
/// </summary>
/// <remarks>
/// Adding a setting: add the property with its default and a <c>///</c> line saying what it
/// trades; check it in <see cref="Validate"/> with a message that names it; persist it in the
/// snapshot header if it changes the graph (docs/index-format.md).
/// </remarks>
public sealed class IndexOptions
{
    /// <summary>Default of <see cref="M"/>.</summary>
    public const int DefaultM = 16;

    /// <summary>Default of <see cref="EfConstruction"/>.</summary>
    public const int DefaultEfConstruction = 200;

    /// <summary>Default of <see cref="EfSearch"/>.</summary>
    public const int DefaultEfSearch = 64;

    /// <summary>
    /// Links per node on the upper layers; the base layer keeps up to 2·M, and a new node takes
    /// up to 2·M there. More links raise recall at a given ef and cost memory (8·M bytes per
    /// vector) and build time. Default 16.
    /// </summary>
    public int M { get; set; } = DefaultM;

    /// <summary>
    /// Search breadth while inserting: higher builds a better graph, more slowly. Default 200, as
    /// hnswlib's benchmark used: at 1M vectors it builds 1.23× as fast as hnswlib on 2 threads and
    /// gives recall@10 .986 at the default ef (128 built 1.4× faster but reached only .978:
    /// bench/README.md).
    /// </summary>
    public int EfConstruction { get; set; } = DefaultEfConstruction;

    /// <summary>
    /// Search breadth used when a search passes ef = 0. Default 64: recall@10 ≥ 0.95 on the
    /// 1M-vector synthetic benchmark set (bench/README.md).
    /// </summary>
    public int EfSearch { get; set; } = DefaultEfSearch;

    /// <summary>Seed of the level generator: a single-threaded build from the same inserts gives the same graph.</summary>
    public int Seed { get; set; } = 20240601;

    /// <summary>Vectors the index has room for before it first grows. Default 1024.</summary>
    public int InitialCapacity { get; set; } = 1024;

    /// <summary>
    /// Fraction of deleted (tombstoned) vectors among the occupied slots above which
    /// <see cref="HnswIndex.NeedsRepair"/> asks the index's owner for <see cref="HnswIndex.RepairStep"/>
    /// (a delete itself never repairs); 0 leaves repair to explicit <see cref="HnswIndex.Repair"/> calls. Default 0.1.
    /// </summary>
    public double RepairThreshold { get; set; } = 0.1;

    /// <summary>Links per node on the base layer (2·<see cref="M"/>).</summary>
    public int MaxLinksBase => 2 * M;

    /// <summary>Checks every setting and throws an exception that names the first invalid one.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public void Validate()
    {
        Check(M is >= 2 and <= 64, nameof(M), M, "must lie in [2, 64]");
        Check(EfConstruction is >= 1 and <= 4096, nameof(EfConstruction), EfConstruction, "must lie in [1, 4096]");
        Check(EfSearch is >= 1 and <= 4096, nameof(EfSearch), EfSearch, "must lie in [1, 4096]");
        Check(InitialCapacity is >= 1 and <= HnswIndex.MaxCapacity, nameof(InitialCapacity), InitialCapacity, $"must lie in [1, {HnswIndex.MaxCapacity}]");
        Check(RepairThreshold is >= 0 and < 1, nameof(RepairThreshold), RepairThreshold, "must lie in [0, 1)");
    }

    /// <summary>A copy, so that an index never sees later changes to the caller's object.</summary>
    public IndexOptions Clone() => (IndexOptions)MemberwiseClone();

    private static void Check(bool ok, string name, object value, string rule)
    {
        if (!ok)
        {
            throw new ArgumentOutOfRangeException("Index:" + name, value, $"Index option {name} {rule}.");
        }
    }
}
