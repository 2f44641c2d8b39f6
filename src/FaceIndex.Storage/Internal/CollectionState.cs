namespace FaceIndex.Storage.Internal;

/// <summary>
/// In-memory directory of one collection: its live faces with the person each belongs to (so
/// that search results become persons without a store read), and its person ids in ordinal order
/// (for paging). Rebuilt from the key-value store at open; changed only by the writer under
/// <see cref="Gate"/>, read by anyone under the same lock.
/// </summary>
internal sealed class CollectionState(string name, string modelVersion, DateTimeOffset createdAt)
{
    public string Name { get; } = name;

    public string ModelVersion { get; } = modelVersion;

    public DateTimeOffset CreatedAt { get; } = createdAt;

    public Lock Gate { get; } = new();

    /// <summary>Face id → person id (the person's id string, shared by its faces).</summary>
    public Dictionary<long, string> Faces { get; } = [];

    public SortedSet<string> Persons { get; } = new(StringComparer.Ordinal);

    public bool ContainsFace(long faceId)
    {
        lock (Gate)
        {
            return Faces.ContainsKey(faceId);
        }
    }

    public bool TryGetPerson(long faceId, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? personId)
    {
        lock (Gate)
        {
            return Faces.TryGetValue(faceId, out personId);
        }
    }

    public CollectionRecord ToRecord()
    {
        lock (Gate)
        {
            return new CollectionRecord(Name, ModelVersion, CreatedAt, Faces.Count, Persons.Count);
        }
    }
}
