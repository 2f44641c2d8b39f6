// TEMPORARY: the change-feed contract of issue 11 until it lands on main; removed at the merge.
#pragma warning disable CS1591, CA1822, IDE0060, CA1812, IDE0161
using System.Reflection;
using FaceIndex.Engine;

namespace FaceIndex.Storage
{
    public abstract record StoreChange;

    public sealed record ChangeRecord(long Position, long NextPosition, ReadOnlyMemory<byte> Entry, IReadOnlyList<StoreChange> Changes);

    public sealed record FeedRead(IReadOnlyList<ChangeRecord> Records, long NextPosition, bool Truncated);

    internal static class TemporaryFeedAdapter
    {
        extension(FaceStore store)
        {
            public IDisposable SubscribeToFeed(Action<IReadOnlyList<ChangeRecord>> onCommitted) => throw new NotSupportedException("feed pending (issue 11)");

            public FeedRead ReadFeed(long from, int maxRecords = int.MaxValue) => throw new NotSupportedException("feed pending (issue 11)");

            public Task AppendReplicatedAsync(IReadOnlyList<ChangeRecord> records, long sourcePosition, CancellationToken ct = default) => throw new NotSupportedException("feed pending (issue 11)");

            public void RetainFeed(string consumer, long position) => throw new NotSupportedException("feed pending (issue 11)");

            public long ReplicatedPosition => throw new NotSupportedException("feed pending (issue 11)");

            public long LastPosition => throw new NotSupportedException("feed pending (issue 11)");

            public long FeedStart => throw new NotSupportedException("feed pending (issue 11)");

            public long FeedEnd => throw new NotSupportedException("feed pending (issue 11)");
        }

        extension(FaceDatabase database)
        {
            public FaceStore Store => (FaceStore)typeof(FaceDatabase).GetField("_store", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(database)!;
        }
    }
}
