using System.Diagnostics.CodeAnalysis;
using System.Text;
using FaceIndex.Core;

namespace FaceIndex.Storage;

/// <summary>
/// Argument checks of the store's edge, public so that a transport (the gRPC service) checks a request
/// with the same rules and messages before doing any work; each failure is a
/// <see cref="FaceIndexException"/> with <see cref="FaceIndexError.InvalidArgument"/>.
/// </summary>
public static class Validation
{
    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Largest tag or metadata key, in UTF-8 bytes.</summary>
    public const int MaxMapKeyBytes = 256;

    /// <summary>Largest tag or metadata value, in UTF-8 bytes.</summary>
    public const int MaxMapValueBytes = 4096;

    /// <summary>Most entries of a tag or metadata map.</summary>
    public const int MaxMapEntries = 64;

    /// <summary>Largest blob key, in UTF-8 bytes.</summary>
    public const int MaxBlobKeyBytes = 512;

    /// <summary>Longest model version, in UTF-8 bytes.</summary>
    public const int MaxModelVersionBytes = 128;

    /// <summary>Refuses an empty name, and one that <see cref="Length"/> refuses.</summary>
    public static void Name([NotNull] string? value, string what, int maxBytes)
    {
        if (string.IsNullOrEmpty(value))
        {
            Throw($"The {what} must not be empty.");
        }

        Length(value, what, maxBytes);
    }

    /// <summary>
    /// Refuses text that is not valid Unicode or longer than <paramref name="maxBytes"/> of UTF-8 (an
    /// empty one passes); the message gives the length, never the text. The server checks ids with it
    /// before any other work, so that an oversized id costs nothing and is not echoed.
    /// </summary>
    public static void Length(string value, string what, int maxBytes)
    {
        if (!TryByteCount(value, out var bytes))
        {
            Throw($"The {what} is not valid Unicode.");
        }

        if (bytes > maxBytes)
        {
            Throw($"The {what} is {bytes} bytes of UTF-8; at most {maxBytes} are allowed.");
        }
    }

    /// <summary>True when the name could be stored (non-empty, valid, within the limit); for lookups that answer "not found" instead of throwing.</summary>
    public static bool IsValidName(string? value, int maxBytes) =>
        !string.IsNullOrEmpty(value) && TryByteCount(value, out var bytes) && bytes <= maxBytes;

    /// <summary>Refuses a tag or metadata map with too many entries, or an empty, invalid or oversized key or value.</summary>
    public static void Map(IReadOnlyDictionary<string, string>? map, string what)
    {
        if (map is null)
        {
            return;
        }

        if (map.Count > MaxMapEntries)
        {
            Throw($"The {what} has {map.Count} entries; at most {MaxMapEntries} are allowed.");
        }

        foreach (var (key, value) in map)
        {
            Name(key, what + " key", MaxMapKeyBytes);
            if (value is null || !TryByteCount(value, out var bytes) || bytes > MaxMapValueBytes)
            {
                Throw($"The {what} value of '{key}' must be valid text of at most {MaxMapValueBytes} UTF-8 bytes.");
            }
        }
    }

    /// <summary>Refuses a content hash that is not a 32-byte SHA-256 digest (null passes: no hash).</summary>
    public static void ContentHash(byte[]? hash)
    {
        if (hash is not null && hash.Length != 32)
        {
            Throw($"The content hash must be a SHA-256 digest of 32 bytes; got {hash.Length}.");
        }
    }

    /// <summary>Refuses an empty list of faces, more than <paramref name="max"/>, or a face without a finite detection score.</summary>
    public static void Faces(IReadOnlyList<NewFace>? faces, int max)
    {
        if (faces is null || faces.Count == 0)
        {
            Throw("At least one face is required.");
        }

        if (faces.Count > max)
        {
            Throw($"{faces.Count} faces in one request; at most {max} are allowed.");
        }

        foreach (var face in faces)
        {
            if (face is null || !float.IsFinite(face.DetectionScore))
            {
                Throw("Every face must be given, with a finite detection score.");
            }
        }
    }

    private static bool TryByteCount(string value, out int bytes)
    {
        try
        {
            bytes = s_strictUtf8.GetByteCount(value);
            return true;
        }
        catch (EncoderFallbackException)
        {
            bytes = 0;
            return false;
        }
    }

    [DoesNotReturn]
    private static void Throw(string message) => throw new FaceIndexException(FaceIndexError.InvalidArgument, message);
}
