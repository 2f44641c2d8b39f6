using System.Diagnostics.CodeAnalysis;
using FaceIndex.Core;
using FaceIndex.Storage.Internal;

namespace FaceIndex.Storage;

public sealed partial class FaceStore
{
    /// <summary>Stores (or replaces) a small durable blob under <paramref name="key"/>.</summary>
    public Task PutBlobAsync(string key, ReadOnlyMemory<byte> value, CancellationToken ct = default)
    {
        Validation.Name(key, "blob key", Validation.MaxBlobKeyBytes);
        if (value.Length > _options.MaxBlobBytes)
        {
            throw new FaceIndexException(FaceIndexError.InvalidArgument, $"The blob is {value.Length} bytes; at most {_options.MaxBlobBytes} are allowed (Storage:MaxBlobBytes).");
        }

        var copy = value.ToArray();
        return Submit(store => store.Append(new PutBlobEntry(key, copy)), ct);
    }

    /// <summary>Reads a blob; false when there is none under <paramref name="key"/>.</summary>
    public bool TryGetBlob(string key, [NotNullWhen(true)] out byte[]? value)
    {
        value = null;
        if (!Validation.IsValidName(key, Validation.MaxBlobKeyBytes) || _kv.Read(Keys.ForBlob(key)) is not { } stored)
        {
            return false;
        }

        value = KvCodec.ReadBlob(stored);
        return true;
    }

    /// <summary>Deletes a blob; false when there was none.</summary>
    public Task<bool> DeleteBlobAsync(string key, CancellationToken ct = default)
    {
        Validation.Name(key, "blob key", Validation.MaxBlobKeyBytes);
        return Submit(store =>
        {
            bool exists;
            lock (store._blobGate)
            {
                exists = store._blobKeys.Contains(key);
            }

            if (exists)
            {
                store.Append(new DeleteBlobEntry(key));
            }

            return exists;
        }, ct);
    }

    /// <summary>Keys of the blobs that start with <paramref name="prefix"/> (ordinal), in ordinal order; a snapshot.</summary>
    public IEnumerable<string> ListBlobKeys(string prefix)
    {
        prefix ??= string.Empty;
        var keys = new List<string>();
        lock (_blobGate)
        {
            foreach (var key in _blobKeys)
            {
                var order = string.CompareOrdinal(key, prefix);
                if (key.StartsWith(prefix, StringComparison.Ordinal))
                {
                    keys.Add(key);
                }
                else if (order > 0)
                {
                    break;
                }
            }
        }

        return keys;
    }
}
