using FaceIndex.Protocol.V1;
using FaceIndex.Testing;

namespace FaceIndex.IntegrationTests;

/// <summary>The <c>faceindex import</c> and <c>search</c> verbs against a real server on a loopback port.</summary>
public sealed class ImportTests
{
    [Fact]
    public async Task Import_of_a_manifest_stores_the_images_reports_the_failures_and_a_rerun_skips_what_is_stored()
    {
        using var dir = TestPaths.NewTempDirectory();
        await using var host = await ServerHost.StartOnLoopbackAsync(Path.Combine(dir.Path, "data"));

        // A manifest over the shared images (paths relative to the manifest), plus three images that must fail.
        var faces = TestPaths.Faces("deepface");
        var truncated = Path.Combine(dir.Path, "truncated.jpg");
        await File.WriteAllBytesAsync(truncated, Deepface.Image("img5.jpg")[..4000]);
        var lines = new List<string> { "person_id,path,tags" };
        foreach (var (person, files) in Deepface.People)
        {
            lines.AddRange(files.Select(f => $"{person},{Path.GetRelativePath(dir.Path, Path.Combine(faces, f))},source=deepface;file={f}"));
        }

        lines.Add($"group,{Path.GetRelativePath(dir.Path, Path.Combine(faces, "selfie-many-people.jpg"))}");
        lines.Add("broken,truncated.jpg");
        lines.Add("missing,does-not-exist.jpg");
        var manifest = Path.Combine(dir.Path, "people.csv");
        await File.WriteAllLinesAsync(manifest, lines);
        var state = Path.Combine(dir.Path, "import.state");
        var report = Path.Combine(dir.Path, "report.csv");
        string[] args = ["import", manifest, "--server", host.Address, "--collection", "staff", "--create-collection", "--policy", "exactly-one", "--state", state, "--report", report, "--parallel", "2"];

        int images = Deepface.People.Values.Sum(f => f.Length);
        Assert.Equal(1, (await ConsoleCapture.RunAsync(args)).ExitCode);
        var stats = await host.Client.StatsAsync(new StatsRequest { Collection = "staff" });
        Assert.Equal(images, stats.Faces);
        Assert.Equal(Deepface.People.Count, stats.Persons);
        var failures = (await File.ReadAllLinesAsync(report)).Skip(1).ToList();
        Assert.Equal(3, failures.Count);
        Assert.Contains(failures, f => f.Contains("selfie-many-people.jpg", StringComparison.Ordinal) && f.Contains("MULTIPLE_FACES", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("truncated.jpg", StringComparison.Ordinal) && f.Contains("IMAGE_TRUNCATED", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("does-not-exist.jpg", StringComparison.Ordinal) && f.Contains("UNREADABLE_FILE", StringComparison.Ordinal));
        var jennifer = await host.Client.GetPersonAsync(new GetPersonRequest { Collection = "staff", PersonId = "jennifer" });
        Assert.Equal("deepface", jennifer.Faces[0].Tags["source"]);

        // A re-run sends nothing that was stored: the state file skips it; only the failures are tried again.
        Assert.Equal(1, (await ConsoleCapture.RunAsync(args)).ExitCode);
        Assert.Equal(images, (await host.Client.StatsAsync(new StatsRequest { Collection = "staff" })).Faces);
        Assert.Equal(3, (await File.ReadAllLinesAsync(report)).Length - 1);

        // Without the state file the server's idempotent enrol still stores nothing twice.
        File.Delete(state);
        Assert.Equal(1, (await ConsoleCapture.RunAsync(args)).ExitCode);
        Assert.Equal(images, (await host.Client.StatsAsync(new StatsRequest { Collection = "staff" })).Faces);
    }

    [Fact]
    public async Task Import_of_a_folder_per_person_then_search_prints_the_match()
    {
        using var dir = TestPaths.NewTempDirectory();
        await using var host = await ServerHost.StartOnLoopbackAsync(Path.Combine(dir.Path, "data"));
        var root = Path.Combine(dir.Path, "people");
        foreach (var person in new[] { "p-8-9", "p-16-17", "p-18-19" })
        {
            Directory.CreateDirectory(Path.Combine(root, person));
            var first = Deepface.People[person][0];
            File.CreateSymbolicLink(Path.Combine(root, person, first), TestPaths.Faces("deepface", first));
        }

        string[] import = ["import", root, "--server", host.Address, "--state", Path.Combine(dir.Path, "s"), "--report", Path.Combine(dir.Path, "r.csv")];
        Assert.Equal(0, (await ConsoleCapture.RunAsync(import)).ExitCode);
        Assert.Equal(3, (await host.Client.StatsAsync(new StatsRequest())).Faces);

        var output = await ConsoleCapture.RunAsync(["search", TestPaths.Faces("deepface", "img19.jpg"), "--server", host.Address, "--json"]);
        Assert.Equal(0, output.ExitCode);
        Assert.Contains("\"personId\": \"p-18-19\"", output.Text, StringComparison.Ordinal);

        var unknown = await ConsoleCapture.RunAsync(["search", Deepface.StrangerPath("AJ_Cook"), "--server", host.Address]);
        Assert.Equal(0, unknown.ExitCode);
        Assert.Contains("unknown", unknown.Text, StringComparison.Ordinal);

        var refused = await ConsoleCapture.RunAsync(["search", TestPaths.Faces("deepface", "img19.jpg"), "--server", host.Address, "--collection", "absent"]);
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("NotFound", refused.Text, StringComparison.Ordinal);
    }
}
