using System.Collections.Concurrent;
using System.Text;
using FaceIndex.Storage;
using FaceIndex.Vision;

namespace FaceIndex.Server.Internal;

/// <summary>
/// Collections that a migration filled with mapped codes (MigrateCollection): their default Search and
/// Verify thresholds are the ones measured for a mapped code against a code of their model (models.json,
/// "migrations"), not the model's own, which are for two codes the network made. One store blob per such
/// collection (<c>migrated/</c> + its name) holding the collection's creation time, so that a note applies
/// to neither a deleted collection nor a new one of the same name.
/// </summary>
internal sealed class MigratedCollections(ServerRuntime runtime)
{
    /// <summary>Blob-key prefix of the notes.</summary>
    public const string Prefix = "migrated/";

    private const string Magic = "FIMG0001";
    private readonly ConcurrentDictionary<string, (long CreatedTicks, Note? Note)> _cache = new(StringComparer.Ordinal);

    /// <summary>What a migration left: the model the codes came from and the thresholds for them.</summary>
    /// <param name="FromModel">The source collection's model.</param>
    /// <param name="SearchThreshold">Search's default threshold in the collection.</param>
    /// <param name="VerifyThreshold">Verify's default threshold against a person of it.</param>
    public sealed record Note(string FromModel, float SearchThreshold, float VerifyThreshold);

    /// <summary>Records, durably, that <paramref name="target"/> holds codes mapped by <paramref name="plan"/>.</summary>
    public async Task RecordAsync(CollectionRecord target, ModelMigration plan, CancellationToken ct)
    {
        var note = new Note(plan.From.Id, plan.IdentificationThreshold, plan.VerificationThreshold);
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Magic);
            writer.Write(target.CreatedAt.UtcTicks);
            writer.Write(note.FromModel);
            writer.Write(note.SearchThreshold);
            writer.Write(note.VerifyThreshold);
        }

        await runtime.Database.PutBlobAsync(Prefix + target.Name, buffer.ToArray(), ct).ConfigureAwait(false);
        _cache[target.Name] = (target.CreatedAt.UtcTicks, note);
    }

    /// <summary>The note of a collection that a migration filled with mapped codes.</summary>
    public bool TryGet(CollectionRecord collection, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Note? note)
    {
        long created = collection.CreatedAt.UtcTicks;
        if (!_cache.TryGetValue(collection.Name, out var cached) || cached.CreatedTicks != created)
        {
            cached = (created, Read(collection.Name, created));
            _cache[collection.Name] = cached;
        }

        note = cached.Note;
        return note is not null;
    }

    private Note? Read(string collection, long createdTicks)
    {
        if (!runtime.Database.TryGetBlob(Prefix + collection, out var bytes))
        {
            return null;
        }

        try
        {
            using var reader = new BinaryReader(new MemoryStream(bytes), Encoding.UTF8);
            if (reader.ReadString() != Magic || reader.ReadInt64() != createdTicks)
            {
                // Another collection's (deleted, then one created under the same name): not this one's.
                return null;
            }

            return new Note(reader.ReadString(), reader.ReadSingle(), reader.ReadSingle());
        }
        catch (Exception ex) when (ex is EndOfStreamException or IOException or FormatException)
        {
            return null;
        }
    }
}
