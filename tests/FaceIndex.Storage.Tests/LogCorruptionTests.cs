using System.Collections.Concurrent;
using System.Text;
using FaceIndex.Core;
using FaceIndex.Storage.Internal;
using FaceIndex.Testing;

namespace FaceIndex.Storage.Tests;

/// <summary>
/// A committed log entry that cannot be read, in real FASTER files: the store refuses to open with the
/// entry's address and what was wrong, and <see cref="FaceStore.RepairLogAsync"/> truncates the log there.
/// </summary>
public sealed class LogCorruptionTests
{
    private static readonly ConcurrentBag<FaceStore> s_abandoned = [];

    [Fact]
    public async Task A_flipped_byte_in_an_entry_is_refused_by_its_checksum_and_repair_keeps_every_entry_before_it()
    {
        using var dir = TestPaths.NewTempDirectory();
        var store = await StoreFixture.WithCollectionAsync(dir);
        var before = new List<long>();
        for (int i = 0; i < 10; i++)
        {
            before.Add((await store.AddFacesAsync("default", $"before-{i}", [StoreFixture.Face(i)], StoreFixture.Model, null, null)).Faces[0].FaceId);
        }

        await store.AddFacesAsync("default", "victim-person", [StoreFixture.Face(100)], StoreFixture.Model, null, null);
        for (int i = 0; i < 3; i++)
        {
            await store.AddFacesAsync("default", $"after-{i}", [StoreFixture.Face(200 + i)], StoreFixture.Model, null, null);
        }

        // A crash: no checkpoint, every entry is replayed from the log at the next open.
        Abandon(store);
        FlipByteAfter(dir.Path, "victim-person");

        var refused = await Assert.ThrowsAsync<FaceIndexException>(() => StoreFixture.OpenAsync(dir.Path));
        Assert.Equal(FaceIndexError.StorageCorrupted, refused.Error);
        Assert.Contains("checksum", refused.Message, StringComparison.Ordinal);
        Assert.Contains("faceindex repair --data", refused.Message, StringComparison.Ordinal);

        // Not confirmed: reported, nothing changed.
        LogRepairPlan? seen = null;
        var declined = await FaceStore.RepairLogAsync(StoreFixture.Options(dir.Path), plan =>
        {
            seen = plan;
            return false;
        });
        Assert.NotNull(declined);
        Assert.False(declined.Truncated);
        Assert.Same(seen, declined);
        Assert.Contains($"address {declined.Damage.Address} ", refused.Message, StringComparison.Ordinal);
        Assert.Equal(4, declined.Dropped.Count);
        Assert.StartsWith("unreadable: checksum", declined.Dropped[0].Kind, StringComparison.Ordinal);
        Assert.Equal(declined.Damage.Address, declined.Dropped[0].Address);
        Assert.All(declined.Dropped.Skip(1), entry => Assert.Equal("AddFaces", entry.Kind));
        await Assert.ThrowsAsync<FaceIndexException>(() => StoreFixture.OpenAsync(dir.Path));

        var repaired = await FaceStore.RepairLogAsync(StoreFixture.Options(dir.Path), _ => true);
        Assert.NotNull(repaired);
        Assert.True(repaired.Truncated);
        Assert.Equal(declined.Dropped, repaired.Dropped);

        store = await StoreFixture.OpenAsync(dir.Path);
        Assert.All(before, id => Assert.True(store.TryGetFace(id, out _)));
        Assert.False(store.TryGetPerson("default", "victim-person", out _));
        Assert.False(store.TryGetPerson("default", "after-0", out _));
        var record = Assert.Single(store.ListBlobKeys(FaceStore.RepairRecordPrefix));
        Assert.True(store.TryGetBlob(record, out var text));
        Assert.Contains($"dropped 4 entries", System.Text.Encoding.UTF8.GetString(text), StringComparison.Ordinal);
        Assert.True(store.FeedStart > declined.Damage.TailAddress);

        // Writes go on after the dropped entries, and survive a crash.
        long added = (await store.AddFacesAsync("default", "new", [StoreFixture.Face(300)], StoreFixture.Model, null, null)).Faces[0].FaceId;
        Assert.True(added > before[^1]);
        Abandon(store);
        await using var reopened = await StoreFixture.OpenAsync(dir.Path);
        Assert.True(reopened.TryGetFace(added, out _));
        Assert.All(before, id => Assert.True(reopened.TryGetFace(id, out _)));
    }

    [Fact]
    public async Task An_entry_with_a_good_checksum_that_the_codec_cannot_read_is_refused_and_repaired()
    {
        using var dir = TestPaths.NewTempDirectory();
        var store = await StoreFixture.WithCollectionAsync(dir);
        long kept = (await store.AddFacesAsync("default", "kept", [StoreFixture.Face(1)], StoreFixture.Model, null, null)).Faces[0].FaceId;
        await store.DisposeAsync();

        // Committed by FasterLog itself (framed, checksummed): an entry of an unknown kind, then a valid one.
        var options = StoreFixture.Options(dir.Path);
        var (device, log) = await FaceStore.OpenWalAsync(Path.GetFullPath(dir.Path), options, new FaceIndex.Storage.Internal.DeviceGuard(), CancellationToken.None);
        long bad = log.Enqueue(new byte[] { WalCodec.FormatVersion, 99, 1, 2, 3 });
        var writer = new ByteWriter();
        WalCodec.Encode(new CreateCollectionEntry("later", StoreFixture.Model, DateTime.UtcNow.Ticks), writer);
        log.Enqueue(writer.WrittenSpan.ToArray());
        log.Commit(spinWait: true);
        log.Dispose();
        device.Dispose();

        var refused = await Assert.ThrowsAsync<FaceIndexException>(() => StoreFixture.OpenAsync(dir.Path));
        Assert.Equal(FaceIndexError.StorageCorrupted, refused.Error);
        Assert.Contains($"at address {bad} ", refused.Message, StringComparison.Ordinal);
        Assert.Contains($"expected a log entry of format version {WalCodec.FormatVersion}", refused.Message, StringComparison.Ordinal);
        Assert.Contains("Unknown log entry kind 99", refused.Message, StringComparison.Ordinal);

        var repaired = await FaceStore.RepairLogAsync(options, _ => true);
        Assert.NotNull(repaired);
        Assert.Equal(bad, repaired.Damage.Address);
        Assert.Equal(["unreadable: Unknown log entry kind 99.", "CreateCollection"], repaired.Dropped.Select(d => d.Kind));

        await using var reopened = await StoreFixture.OpenAsync(dir.Path);
        Assert.True(reopened.TryGetFace(kept, out _));
        Assert.False(reopened.TryGetCollection("later", out _));
    }

    [Fact]
    public async Task A_page_read_back_from_disk_with_a_bad_entry_is_refused_at_that_entry()
    {
        using var dir = TestPaths.NewTempDirectory();
        var store = await StoreFixture.WithCollectionAsync(dir);
        await store.PutBlobAsync("first", Encoding.UTF8.GetBytes("first"));
        await store.PutBlobAsync("victim-blob", new byte[64 << 10]);

        // More than the 1 MiB page, so that the victim's page is read back from disk at recovery.
        for (int i = 0; i < 24; i++)
        {
            await store.PutBlobAsync($"filler-{i}", new byte[60 << 10]);
        }

        Abandon(store);
        FlipByteAfter(dir.Path, "victim-blob");
        var refused = await Assert.ThrowsAsync<FaceIndexException>(() => StoreFixture.OpenAsync(dir.Path));
        Assert.Equal(FaceIndexError.StorageCorrupted, refused.Error);
        Assert.Contains("Invalid checksum found during scan", refused.Message, StringComparison.Ordinal); // FasterLog's own check of a page read from disk

        var repaired = await FaceStore.RepairLogAsync(StoreFixture.Options(dir.Path), _ => true);
        Assert.NotNull(repaired);
        Assert.Contains($"address {repaired.Damage.Address} ", refused.Message, StringComparison.Ordinal);
        await using var reopened = await StoreFixture.OpenAsync(dir.Path);
        Assert.True(reopened.TryGetBlob("first", out _));
        Assert.False(reopened.TryGetBlob("victim-blob", out _));
        Assert.False(reopened.TryGetBlob("filler-0", out _));
    }

    [Fact]
    public async Task Repair_refuses_a_directory_held_by_an_open_store_and_a_directory_without_a_store()
    {
        using var dir = TestPaths.NewTempDirectory();
        await using (var store = await StoreFixture.WithCollectionAsync(dir))
        {
            var held = await Assert.ThrowsAsync<FaceIndexException>(() => FaceStore.RepairLogAsync(StoreFixture.Options(dir.Path), _ => true));
            Assert.Equal(FaceIndexError.StorageUnavailable, held.Error);
            Assert.Contains("in use", held.Message, StringComparison.Ordinal);
        }

        Assert.Null(await FaceStore.RepairLogAsync(StoreFixture.Options(dir.Path), _ => throw new InvalidOperationException("an intact log needs no confirmation")));
        using var empty = TestPaths.NewTempDirectory();
        var none = await Assert.ThrowsAsync<FaceIndexException>(() => FaceStore.RepairLogAsync(StoreFixture.Options(empty.Path), _ => true));
        Assert.Equal(FaceIndexError.NotFound, none.Error);
    }

    private static void Abandon(FaceStore store)
    {
        store.ReleaseDirectoryLockAsIfKilled();
        s_abandoned.Add(store);
    }

    /// <summary>Flips a byte a little after the first occurrence of <paramref name="marker"/> in the log's first segment.</summary>
    private static void FlipByteAfter(string directory, string marker)
    {
        var path = Path.Combine(directory, "wal", "log.0");
        var bytes = File.ReadAllBytes(path);
        int at = bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(marker));
        Assert.True(at >= 0, $"'{marker}' is not in {path}");
        using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
        file.Position = at + marker.Length + 2;
        int old = file.ReadByte();
        file.Position = at + marker.Length + 2;
        file.WriteByte((byte)(old ^ 0x5A));
        file.Flush(flushToDisk: true);
    }
}
