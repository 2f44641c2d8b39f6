namespace FaceIndex.Index;

/// <summary>Why a snapshot could not be loaded. Every fault means the same to the caller: rebuild the index.</summary>
public enum SnapshotFault
{
    /// <summary>The stream does not start with the snapshot magic: not an index snapshot.</summary>
    NotASnapshot,

    /// <summary>A snapshot of a format version this build does not read.</summary>
    UnsupportedVersion,

    /// <summary>The stream ends before the snapshot does.</summary>
    Truncated,

    /// <summary>A section's checksum does not match its bytes.</summary>
    ChecksumMismatch,

    /// <summary>The checksums hold but the contents contradict each other (sizes, counts, links).</summary>
    Inconsistent,
}

/// <summary>A snapshot that cannot be loaded; <see cref="Fault"/> says why. The caller rebuilds the index from the store.</summary>
public sealed class IndexSnapshotException : Exception
{
    /// <summary>Creates the exception.</summary>
    public IndexSnapshotException(SnapshotFault fault, string message, Exception? inner = null)
        : base(message, inner)
    {
        Fault = fault;
    }

    /// <summary>Why the snapshot was refused.</summary>
    public SnapshotFault Fault { get; }
}
