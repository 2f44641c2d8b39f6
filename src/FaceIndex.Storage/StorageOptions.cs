namespace FaceIndex.Storage;

/// <summary>
/// Settings of the durable face store. The host binds them from configuration; the store only
/// validates them.
/// </summary>
/// <remarks>
/// Adding a setting: add the property with its default and a <c>///</c> line saying what it does and
/// its unit; check it in <see cref="Validate"/> with a message that names it; use it in
/// <see cref="FaceStore.OpenAsync"/>; add it to config/appsettings.json and docs/store-format.md.
/// </remarks>
public sealed class StorageOptions
{
    /// <summary>Directory holding the write-ahead log, the key-value log and its checkpoints. Default "data".</summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary>Interval between periodic key-value checkpoints (which also truncate the log). Default 1 minute.</summary>
    public TimeSpan CheckpointInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Longest time the writer waits for more requests before committing a small batch. Zero commits as
    /// soon as the writer is idle. Default 1 ms.
    /// </summary>
    public TimeSpan GroupCommitWindow { get; set; } = TimeSpan.FromMilliseconds(1);

    /// <summary>
    /// Longest wait for one log commit (flush + fsync). A commit that takes longer (a full disk on which
    /// the device's write never completes, a hung device) fails the writes it covers with
    /// StorageUnavailable instead of holding them forever, and the store refuses writes until it is
    /// reopened. Default 30 s.
    /// </summary>
    public TimeSpan CommitTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Memory of the key-value log (records beyond it live on disk and are read back on demand). Default 256 MiB.</summary>
    public long MemoryBudgetBytes { get; set; } = 256L << 20;

    /// <summary>Hash buckets of the key-value index (a power of two; 64 bytes each). Default 2^20.</summary>
    public long IndexBuckets { get; set; } = 1L << 20;

    /// <summary>Size of one on-disk segment file of the logs, in bytes (a power of two). Default 1 GiB.</summary>
    public long SegmentSizeBytes { get; set; } = 1L << 30;

    /// <summary>Memory of the write-ahead log buffer (a power of two, at least 4 pages of 1 MiB). Default 32 MiB.</summary>
    public long WalMemoryBytes { get; set; } = 32L << 20;

    /// <summary>Largest number of faces one add-faces request may carry. Default 1,024.</summary>
    public int MaxFacesPerRequest { get; set; } = 1024;

    /// <summary>Largest blob value, in bytes. Default 16 MiB.</summary>
    public int MaxBlobBytes { get; set; } = 16 << 20;

    /// <summary>
    /// Whether the server keeps a 112×112 JPEG of each enrolled face (the aligned crop the model saw, about
    /// 3–5 KB, stored as a blob and deleted with the face) so that people can see what is enrolled and what
    /// matched. Thumbnails are personal data (pictures of faces); turn this off where only the 128-byte codes
    /// may be kept. The store itself does not read this setting; the server's write path does. Default true.
    /// </summary>
    public bool KeepThumbnails { get; set; } = true;

    /// <summary>Checks every setting; throws <see cref="ArgumentException"/> naming the first invalid one.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(DataDirectory))
        {
            throw new ArgumentException("Storage:DataDirectory must name a directory.", nameof(DataDirectory));
        }

        if (CheckpointInterval <= TimeSpan.Zero)
        {
            throw new ArgumentException($"Storage:CheckpointInterval must be positive; got {CheckpointInterval}.", nameof(CheckpointInterval));
        }

        if (GroupCommitWindow < TimeSpan.Zero || GroupCommitWindow > TimeSpan.FromSeconds(1))
        {
            throw new ArgumentException($"Storage:GroupCommitWindow must be between 0 and 1 s; got {GroupCommitWindow}.", nameof(GroupCommitWindow));
        }

        if (CommitTimeout < TimeSpan.FromMilliseconds(100) || CommitTimeout > TimeSpan.FromMinutes(10))
        {
            throw new ArgumentException($"Storage:CommitTimeout must be between 100 ms and 10 min; got {CommitTimeout}.", nameof(CommitTimeout));
        }

        if (MemoryBudgetBytes < (16L << 20) || !IsPowerOfTwo(MemoryBudgetBytes))
        {
            throw new ArgumentException($"Storage:MemoryBudgetBytes must be a power of two of at least 16 MiB; got {MemoryBudgetBytes}.", nameof(MemoryBudgetBytes));
        }

        if (IndexBuckets < 1024 || !IsPowerOfTwo(IndexBuckets))
        {
            throw new ArgumentException($"Storage:IndexBuckets must be a power of two of at least 1024; got {IndexBuckets}.", nameof(IndexBuckets));
        }

        if (SegmentSizeBytes < (16L << 20) || !IsPowerOfTwo(SegmentSizeBytes))
        {
            throw new ArgumentException($"Storage:SegmentSizeBytes must be a power of two of at least 16 MiB; got {SegmentSizeBytes}.", nameof(SegmentSizeBytes));
        }

        if (WalMemoryBytes < (4L << 20) || !IsPowerOfTwo(WalMemoryBytes))
        {
            throw new ArgumentException($"Storage:WalMemoryBytes must be a power of two of at least 4 MiB; got {WalMemoryBytes}.", nameof(WalMemoryBytes));
        }

        if (MaxFacesPerRequest is < 1 or > 65_536)
        {
            throw new ArgumentException($"Storage:MaxFacesPerRequest must be between 1 and 65536; got {MaxFacesPerRequest}.", nameof(MaxFacesPerRequest));
        }

        if (MaxBlobBytes is < 1 or > (256 << 20))
        {
            throw new ArgumentException($"Storage:MaxBlobBytes must be between 1 and 256 MiB; got {MaxBlobBytes}.", nameof(MaxBlobBytes));
        }
    }

    private static bool IsPowerOfTwo(long value) => value > 0 && (value & (value - 1)) == 0;
}
