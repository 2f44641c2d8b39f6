namespace FaceIndex.Core;

/// <summary>
/// The closed set of domain errors a user can cause. The server maps each to one gRPC status in
/// one place; libraries throw <see cref="FaceIndexException"/> carrying one of these.
/// </summary>
public enum FaceIndexError
{
    /// <summary>The bytes are not an image of a supported format, or are empty.</summary>
    ImageUnreadable,

    /// <summary>The image is truncated or corrupt part-way.</summary>
    ImageTruncated,

    /// <summary>The image's pixel count or byte size exceeds the configured budget.</summary>
    ImageTooLarge,

    /// <summary>The image is too small to hold a face.</summary>
    ImageTooSmall,

    /// <summary>No face was found.</summary>
    NoFace,

    /// <summary>Several faces were found where exactly one was required.</summary>
    MultipleFaces,

    /// <summary>A vector of the wrong length, with non-finite or out-of-range components.</summary>
    InvalidVector,

    /// <summary>A vector produced by another model version than the collection's.</summary>
    ModelMismatch,

    /// <summary>A model file is missing or does not match its pinned checksum.</summary>
    ModelMissing,

    /// <summary>An argument (id, name, parameter) is invalid.</summary>
    InvalidArgument,

    /// <summary>The named collection, person, face or operation does not exist.</summary>
    NotFound,

    /// <summary>The entity to create exists already.</summary>
    AlreadyExists,

    /// <summary>The store cannot accept writes (disk full, read-only).</summary>
    StorageUnavailable,

    /// <summary>The requested execution provider (for example CUDA) is not available.</summary>
    ProviderUnavailable,

    /// <summary>The server or database is shutting down and takes no new work.</summary>
    ShuttingDown,

    /// <summary>
    /// Stored data cannot be read (a committed log entry whose checksum or format is wrong): the store
    /// refuses to open; <c>faceindex repair</c> says what it would drop and truncates the log there.
    /// </summary>
    StorageCorrupted,
}

/// <summary>A domain error with its code; the message tells the caller what to fix.</summary>
public sealed class FaceIndexException : Exception
{
    /// <summary>Creates the exception.</summary>
    public FaceIndexException(FaceIndexError error, string message, Exception? inner = null)
        : base(message, inner)
    {
        Error = error;
    }

    /// <summary>The error code.</summary>
    public FaceIndexError Error { get; }
}
