namespace FaceIndex.Storage.Internal;

/// <summary>
/// In-memory directory of one collection: its live face ids and its person ids in ordinal order
/// (for paging). Rebuilt from the key-value store at open; changed only by the writer under
/// <see cref="Gate"/>, read by anyone under the same lock.
/// </summary>
internal sealed class CollectionState(string name, string modelVersion, DateTimeOffset createdAt)
{
    public string Name { get; } = name;

    public string ModelVersion { get; } = modelVersion;

    public DateTimeOffset CreatedAt { get; } = createdAt;

    public Lock Gate { get; } = new();

    public HashSet<long> Faces { get; } = [];

    public SortedSet<string> Persons { get; } = new(StringComparer.Ordinal);

    public bool ContainsFace(long faceId)
    {
        lock (Gate)
        {
            return Faces.Contains(faceId);
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
