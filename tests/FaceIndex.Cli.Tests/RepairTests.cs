using System.Text;
using FaceIndex.Core;
using FaceIndex.Server;
using FaceIndex.Storage;
using FaceIndex.Testing;
using Microsoft.Extensions.Configuration;

namespace FaceIndex.Cli.Tests;

public sealed class RepairTests
{
    [Fact]
    public async Task Repair_lists_what_it_drops_asks_for_yes_then_truncates_and_the_store_opens_again()
    {
        using var dir = TestPaths.NewTempDirectory();
        using var crashed = TestPaths.NewTempDirectory();
        var options = Options(dir.Path);
        await using (var store = await FaceStore.OpenAsync(options))
        {
            Assert.True(await store.CreateCollectionAsync("default", "m1"));
            await store.PutBlobAsync("kept", Encoding.UTF8.GetBytes("kept"));
            await store.PutBlobAsync("victim-blob", new byte[100]);
            await store.PutBlobAsync("later", new byte[10]);

            // The files of a running store, as a crash leaves them: every entry is still in the log.
            CopyDirectory(dir.Path, crashed.Path);
        }

        var log = Path.Combine(crashed.Path, "wal", "log.0");
        var bytes = File.ReadAllBytes(log);
        int at = bytes.AsSpan().IndexOf("victim-blob"u8);
        bytes[at + 20] ^= 0x5A;
        File.WriteAllBytes(log, bytes);
        var refused = await Assert.ThrowsAsync<FaceIndexException>(() => FaceStore.OpenAsync(Options(crashed.Path)));
        Assert.Equal(FaceIndexError.StorageCorrupted, refused.Error);

        // No terminal and no --yes: the report, and nothing changed.
        var (exit, text) = await CliRunner.RunAsync("repair", "--data", crashed.Path);
        Assert.Equal(1, exit);
        Assert.Contains("Unreadable committed log entry at address", text, StringComparison.Ordinal);
        Assert.Contains("drops 2 entries", text, StringComparison.Ordinal);
        Assert.Contains("PutBlob", text, StringComparison.Ordinal);
        Assert.Contains("--yes", text, StringComparison.Ordinal);
        await Assert.ThrowsAsync<FaceIndexException>(() => FaceStore.OpenAsync(Options(crashed.Path)));

        (exit, text) = await CliRunner.RunAsync("repair", "--data", crashed.Path, "--yes");
        Assert.Equal(0, exit);
        Assert.Contains("Truncated", text, StringComparison.Ordinal);
        Assert.Contains("dropped 2 entries", text, StringComparison.Ordinal);

        await using (var store = await FaceStore.OpenAsync(Options(crashed.Path)))
        {
            Assert.True(store.TryGetBlob("kept", out _));
            Assert.False(store.TryGetBlob("victim-blob", out _));
            Assert.False(store.TryGetBlob("later", out _));
        }

        (exit, text) = await CliRunner.RunAsync("repair", "--data", crashed.Path);
        Assert.Equal(0, exit);
        Assert.Contains("intact", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Repair_refuses_a_directory_in_use_and_one_without_a_store()
    {
        using var dir = TestPaths.NewTempDirectory();
        await using (var store = await FaceStore.OpenAsync(Options(dir.Path)))
        {
            var (exit, text) = await CliRunner.RunAsync("repair", "--data", dir.Path, "--yes");
            Assert.Equal(2, exit);
            Assert.Contains("in use", text, StringComparison.Ordinal);
        }

        using var empty = TestPaths.NewTempDirectory();
        var (code, output) = await CliRunner.RunAsync("repair", "--data", empty.Path);
        Assert.Equal(2, code);
        Assert.Contains("holds no FaceIndex store", output, StringComparison.Ordinal);
    }

    /// <summary>The storage settings the CLI reads, on <paramref name="directory"/>.</summary>
    private static StorageOptions Options(string directory)
    {
        var options = FaceIndexServer.ReadConfiguration([]).GetSection("Storage").Get<StorageOptions>() ?? new StorageOptions();
        options.DataDirectory = directory;
        return options;
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(from, file);
            if (relative == "LOCK")
            {
                continue;
            }

            var target = Path.Combine(to, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            using var source = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var copy = File.Create(target);
            source.CopyTo(copy);
        }
    }
}
