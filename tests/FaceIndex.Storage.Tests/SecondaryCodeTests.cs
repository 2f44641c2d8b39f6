using FaceIndex.Core;
using FaceIndex.Storage.Internal;
using FaceIndex.Testing;

namespace FaceIndex.Storage.Tests;

/// <summary>
/// A fused model's face holds a second 128-byte code: it is stored, logged, checkpointed and recovered
/// with the face; faces without one keep the original format (version 1), so older data and older
/// readers stay compatible; a version-1 value that claims a second code is refused.
/// </summary>
public sealed class SecondaryCodeTests
{
    [Fact]
    public async Task The_second_code_survives_log_replay_and_checkpoint_recovery()
    {
        using var dir = TestPaths.NewTempDirectory();
        long fusedId, plainId;
        await using (var store = await StoreFixture.WithCollectionAsync(dir))
        {
            var fused = StoreFixture.Face(1) with { SecondaryVector = StoreFixture.Vector(101) };
            var result = await store.AddFacesAsync("default", "alice", [fused, StoreFixture.Face(2)], StoreFixture.Model, null, null);
            (fusedId, plainId) = (result.Faces[0].FaceId, result.Faces[1].FaceId);
            Assert.Equal(StoreFixture.Vector(101), result.Faces[0].SecondaryVector);
            Assert.Null(result.Faces[1].SecondaryVector);
            AssertStored(store, fusedId, plainId);
        }

        // Reopened: state rebuilt from the write-ahead log.
        await using (var store = await StoreFixture.OpenAsync(dir.Path))
        {
            AssertStored(store, fusedId, plainId);
            await store.CheckpointAsync();
        }

        // Reopened from the checkpoint.
        await using (var store = await StoreFixture.OpenAsync(dir.Path))
        {
            AssertStored(store, fusedId, plainId);
        }
    }

    [Fact]
    public void A_face_without_a_second_code_keeps_format_1_and_one_with_it_is_format_2()
    {
        var plain = new StoredFace(7, StoreFixture.Vector(1), null, 0.9f);
        var fused = plain with { Secondary = StoreFixture.Vector(2) };
        var entry = new AddFacesEntry("default", "alice", StoreFixture.Model, null, EmptyMap.Instance, 0, [plain]);
        var writer = new ByteWriter();

        KvCodec.WriteFace(writer, entry, plain, 1);
        Assert.Equal(KvCodec.FormatVersion, writer.WrittenSpan[0]);
        var plainBytes = writer.ToArray();
        Assert.Null(KvCodec.ReadFace(plainBytes).SecondaryVector);

        KvCodec.WriteFace(writer, entry, fused, 1);
        Assert.Equal(KvCodec.SecondaryCodeVersion, writer.WrittenSpan[0]);
        var fusedBytes = writer.ToArray();
        Assert.Equal(plainBytes.Length + FaceVector.Dimensions, fusedBytes.Length);
        Assert.Equal(StoreFixture.Vector(2), KvCodec.ReadFace(fusedBytes).SecondaryVector);

        // The log entry follows the same rule.
        WalCodec.Encode(entry, writer);
        Assert.Equal(WalCodec.FormatVersion, writer.WrittenSpan[0]);
        WalCodec.Encode(entry with { Faces = [plain, fused] }, writer);
        Assert.Equal(KvCodec.SecondaryCodeVersion, writer.WrittenSpan[0]);
        var decoded = Assert.IsType<AddFacesEntry>(WalCodec.Decode(writer.WrittenSpan));
        Assert.Equal([null, StoreFixture.Vector(2)], decoded.Faces.Select(f => f.Secondary));

        // Format 1 cannot carry a second code: such bytes are corrupt, not silently misread.
        fusedBytes[0] = KvCodec.FormatVersion;
        Assert.Throws<InvalidDataException>(() => KvCodec.ReadFace(fusedBytes));
    }

    private static void AssertStored(FaceStore store, long fusedId, long plainId)
    {
        Assert.True(store.TryGetFace(fusedId, out var fused));
        Assert.Equal(StoreFixture.Vector(1), fused.Vector);
        Assert.Equal(StoreFixture.Vector(101), fused.SecondaryVector);
        Assert.True(store.TryGetFace(plainId, out var plain));
        Assert.Equal(StoreFixture.Vector(2), plain.Vector);
        Assert.Null(plain.SecondaryVector);
    }
}
