using FaceIndex.Client;
using FaceIndex.Testing;
using Grpc.Core;

namespace FaceIndex.ConsoleTests;

/// <summary>src/FaceIndex.Client against the real server: API key, typed calls, the folder import with progress and failures.</summary>
public sealed class ClientTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private FaceIndexClient Connect(string? key = LoopbackServer.Key) =>
        new(new FaceIndexClientOptions { Address = new Uri(fixture.Server.GrpcAddress), ApiKey = key, DefaultDeadline = TimeSpan.FromSeconds(60) });

    [Fact]
    public async Task A_folder_import_streams_every_photo_reports_progress_and_failures_and_search_finds_the_person()
    {
        using var dir = TestPaths.NewTempDirectory();
        foreach (var (person, files) in new[] { ("angelina", new[] { "img1.jpg", "img2.jpg", "img4.jpg" }), ("mark", new[] { "img13.jpg", "img14.jpg" }) })
        {
            Directory.CreateDirectory(Path.Combine(dir.Path, person));
            foreach (var file in files)
            {
                File.Copy(TestPaths.Faces("deepface", file), Path.Combine(dir.Path, person, file));
            }
        }

        await File.WriteAllTextAsync(Path.Combine(dir.Path, "mark", "notes.jpg"), "not a photo");

        using var client = Connect();
        await client.CreateCollectionAsync("client-import");
        var reports = new List<ImportProgress>();
        // The fixture's server takes messages of at most 2 MiB: img1.jpg (2.2 MB) is reported, not sent.
        const long Limit = (2 << 20) - 4096;
        var summary = await client.ImportFolderAsync("client-import", dir.Path, new SynchronousProgress(reports), window: 2, maxImageBytes: Limit);

        Assert.Equal(6, summary.Total);
        Assert.Equal(4, summary.Stored);
        Assert.Equal(2, summary.Failures.Count);
        var unreadable = Assert.Single(summary.Failures, f => f.Path.EndsWith("notes.jpg", StringComparison.Ordinal));
        Assert.Equal("IMAGE_UNREADABLE", unreadable.Reason);
        var tooLarge = Assert.Single(summary.Failures, f => f.Path.EndsWith("img1.jpg", StringComparison.Ordinal));
        Assert.Equal("IMAGE_TOO_LARGE", tooLarge.Reason);
        Assert.Equal(6, reports.Count);
        Assert.Equal(Enumerable.Range(1, 6), reports.Select(r => r.Done).Order());

        var again = await client.ImportFolderAsync("client-import", dir.Path, maxImageBytes: Limit);
        Assert.Equal(4, again.Duplicates);

        var found = await client.SearchAsync("client-import", await File.ReadAllBytesAsync(TestPaths.Faces("deepface", "img5.jpg")));
        Assert.Equal("angelina", found.Faces[0].Persons[0].PersonId);
        Assert.Equal(2, found.Faces[0].Persons[0].MatchedFaces);
        Assert.True((await client.VerifyAsync("client-import", await File.ReadAllBytesAsync(TestPaths.Faces("deepface", "img15.jpg")), "mark")).Same);
    }

    [Fact]
    public async Task Without_the_key_calls_are_unauthenticated_and_the_reason_is_readable()
    {
        using var client = Connect(key: null);
        var error = await Assert.ThrowsAsync<RpcException>(() => client.StatsAsync());
        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
        Assert.Equal("UNAUTHENTICATED", FaceIndexClient.ReasonOf(error));

        var config = FaceIndexClient.RetryConfig(new FaceIndexClientOptions { MaxAttempts = 3 });
        Assert.Equal([StatusCode.Unavailable], config.MethodConfigs[0].RetryPolicy!.RetryableStatusCodes);
        Assert.Equal(3, config.MethodConfigs[0].RetryPolicy!.MaxAttempts);
    }

    private sealed class SynchronousProgress(List<ImportProgress> reports) : IProgress<ImportProgress>
    {
        public void Report(ImportProgress value)
        {
            lock (reports)
            {
                reports.Add(value);
            }
        }
    }
}
