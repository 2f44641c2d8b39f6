using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using FaceIndex.Protocol.V1;
using FaceIndex.Testing;
using Google.Protobuf;
using Grpc.Core;

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

    [Fact]
    public async Task Interrupted_import_process_exits_130_with_its_summary_and_report_and_a_resume_leaves_every_face_searchable()
    {
        using var dir = TestPaths.NewTempDirectory();
        await using var host = await ServerHost.StartOnLoopbackAsync(Path.Combine(dir.Path, "data"));

        // Every deepface identity twice (as "a-" and "b-" persons): 54 images, sent one at a time so that the interrupt lands mid-import.
        var root = Path.Combine(dir.Path, "people");
        var imageOf = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var copy in new[] { "a-", "b-" })
        {
            foreach (var (person, files) in Deepface.People)
            {
                Directory.CreateDirectory(Path.Combine(root, copy + person));
                foreach (var file in files)
                {
                    var source = TestPaths.Faces("deepface", file);
                    File.CreateSymbolicLink(Path.Combine(root, copy + person, file), source);
                    imageOf[Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(source)))] = source;
                }
            }
        }

        int images = 2 * Deepface.People.Values.Sum(f => f.Length);
        var state = Path.Combine(dir.Path, "import.state");
        var report = Path.Combine(dir.Path, "report.csv");
        string[] args = ["import", root, "--server", host.Address, "--collection", "staff", "--create-collection", "--state", state, "--report", report, "--parallel", "1", "--in-flight", "1"];

        // The real faceindex process, sent SIGINT (what Ctrl-C sends) once three images are stored.
        // env --default-signal undoes the SIGINT that a non-interactive shell's background job inherits ignored.
        var info = new ProcessStartInfo("env") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("--default-signal=INT");
        info.ArgumentList.Add("dotnet");
        info.ArgumentList.Add(typeof(Cli.CliApp).Assembly.Location);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var import = Process.Start(info)!;
        var stdout = import.StandardOutput.ReadToEndAsync();
        var stderr = import.StandardError.ReadToEndAsync();
        // A dedicated thread watches the state file and sends the signal: the test host also runs the
        // server, whose inference keeps the thread pool busy, and a pooled poll was seen to notice the
        // third stored image only after the import had finished.
        string? signalled = null;
        var watcher = new Thread(() =>
        {
            var clock = Stopwatch.StartNew();
            while (!import.HasExited && (!File.Exists(state) || ReadShared(state).Length < 3) && clock.Elapsed < TimeSpan.FromSeconds(60))
            {
                Thread.Sleep(5);
            }

            if (!import.HasExited && File.Exists(state))
            {
                using var kill = Process.Start("kill", ["-INT", import.Id.ToString(CultureInfo.InvariantCulture)]);
                kill.WaitForExit();
                signalled = $"SIGINT at {clock.Elapsed.TotalSeconds:F1} s with {ReadShared(state).Length} images stored";
            }
        })
        { IsBackground = true, Name = "import interrupter" };
        watcher.Start();
        watcher.Join(TimeSpan.FromSeconds(90));
        Assert.True(signalled is not null, "the import ended, or stored nothing within 60 s, before the interrupt: " + await stdout);

        using (var wait = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        {
            await import.WaitForExitAsync(wait.Token);
        }

        string output = await stdout + await stderr;
        Assert.True(import.ExitCode == 130, $"exit {import.ExitCode} ({signalled}):\n{output}");
        Assert.Contains("Interrupted after", output, StringComparison.Ordinal);
        Assert.Contains("To resume, run the same command again", output, StringComparison.Ordinal);
        Assert.True(File.Exists(report), "no report after the interrupt");
        int stored = ReadShared(state).Length;
        Assert.InRange(stored, 3, images - 1);
        Assert.Contains($"{stored:N0} stored", output, StringComparison.Ordinal);

        // The resume sends only what is not in the state file, and ends with every image stored.
        var resumed = await ConsoleCapture.RunAsync(args);
        Assert.True(resumed.ExitCode == 0, resumed.Text);
        Assert.Equal(images, (await host.Client.StatsAsync(new StatsRequest { Collection = "staff" })).Faces);
        Assert.Equal(images, ReadShared(state).Length);

        // Stored means searchable: each stored face is among the matches of a search with its own image.
        int checkedFaces = 0;
        foreach (var person in Deepface.People.Keys.SelectMany(p => new[] { "a-" + p, "b-" + p }))
        {
            var record = await host.Client.GetPersonAsync(new GetPersonRequest { Collection = "staff", PersonId = person });
            foreach (var face in record.Faces)
            {
                var image = imageOf[Convert.ToHexStringLower(face.ContentSha256.Span)];
                var reply = await host.Client.SearchAsync(new SearchRequest { Collection = "staff", Image = ByteString.CopyFrom(await File.ReadAllBytesAsync(image)), TopK = 10 });
                Assert.True(
                    reply.Faces.SelectMany(f => f.Matches).Any(m => m.FaceId == face.FaceId),
                    $"face {face.FaceId} of {person} ({Path.GetFileName(image)}) is stored but a search with its image does not find it");
                checkedFaces++;
            }
        }

        Assert.Equal(images, checkedFaces);
    }

    [Fact]
    public async Task Twenty_enrol_streams_cancelled_mid_stream_leave_every_stored_face_searchable_by_its_vector()
    {
        // Issue 11's scale scenario: 20 EnrollStreams of 400 vector enrolments, each cancelled by the client part-way.
        using var dir = TestPaths.NewTempDirectory();
        await using var host = await ServerHost.StartOnLoopbackAsync(Path.Combine(dir.Path, "data"));
        await host.Client.CreateCollectionAsync(new CreateCollectionRequest { Name = "bulk" });
        string model = (await host.Client.StatsAsync(new StatsRequest { Collection = "bulk" })).ModelVersion;
        var vectors = new ConcurrentDictionary<string, ByteString>(StringComparer.Ordinal);
        const int Streams = 20;
        const int PerStream = 400;
        const int Persons = 50;

        await Task.WhenAll(Enumerable.Range(0, Streams).Select(stream => Task.Run(async () =>
        {
            var random = new Random(1100 + stream);
            using var cancel = new CancellationTokenSource();
            using var call = host.Client.EnrollStream(cancellationToken: cancel.Token);
            int answered = 0;
            int cancelAfter = 20 + random.Next(150);
            var reader = Task.Run(async () =>
            {
                try
                {
                    await foreach (var _ in call.ResponseStream.ReadAllAsync(cancel.Token))
                    {
                        if (Interlocked.Increment(ref answered) == cancelAfter)
                        {
                            await cancel.CancelAsync();
                        }
                    }
                }
                catch (Exception ex) when (ex is OperationCanceledException or RpcException { StatusCode: StatusCode.Cancelled })
                {
                    // The client's cancel.
                }
            });
            try
            {
                for (int i = 0; i < PerStream; i++)
                {
                    var key = string.Create(CultureInfo.InvariantCulture, $"{stream}-{i}");
                    var data = ByteString.CopyFrom(RandomUnitCode(random));
                    vectors[key] = data;
                    var request = new EnrollRequest { Collection = "bulk", PersonId = "p" + (i % Persons).ToString(CultureInfo.InvariantCulture), Vector = new Protocol.V1.FaceVector { Data = data, ModelVersion = model } };
                    request.Tags["key"] = key;
                    await call.RequestStream.WriteAsync(request, cancel.Token);
                }

                await call.RequestStream.CompleteAsync();
            }
            catch (Exception ex) when (ex is OperationCanceledException or RpcException or InvalidOperationException)
            {
                // Cancelled mid-stream: the writes in flight may or may not be stored.
            }

            await reader;
        })));

        // Every stored face, through ListPersons and GetPerson, is found by a search with its own vector.
        var stored = new List<Face>();
        string token = "";
        do
        {
            var page = await host.Client.ListPersonsAsync(new ListPersonsRequest { Collection = "bulk", PageSize = 1000, PageToken = token });
            foreach (var person in page.Persons)
            {
                stored.AddRange((await host.Client.GetPersonAsync(new GetPersonRequest { Collection = "bulk", PersonId = person.PersonId })).Faces);
            }

            token = page.NextPageToken;
        }
        while (token.Length > 0);

        Assert.InRange(stored.Count, Streams * 20, Streams * PerStream);
        var lost = new List<string>();
        foreach (var face in stored)
        {
            var reply = await host.Client.SearchAsync(new SearchRequest { Collection = "bulk", Vector = new Protocol.V1.FaceVector { Data = vectors[face.Tags["key"]], ModelVersion = model }, TopK = 3 });
            if (!reply.Faces.SelectMany(f => f.Matches).Any(m => m.FaceId == face.FaceId))
            {
                lost.Add(face.Tags["key"]);
            }
        }

        Assert.True(lost.Count == 0, $"{lost.Count} of {stored.Count} stored faces are not found by a search with their own vector (first: {string.Join(", ", lost.Take(5))})");
    }

    /// <summary>The lines of a file that another process is appending to.</summary>
    private static string[] ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>A random unit face code (Gaussian components, normalised, quantized).</summary>
    private static byte[] RandomUnitCode(Random random)
    {
        var x = new float[Core.FaceVector.Dimensions];
        double norm = 0;
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = (float)(Math.Sqrt(-2 * Math.Log(1.0 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
            norm += x[i] * x[i];
        }

        for (int i = 0; i < x.Length; i++)
        {
            x[i] /= (float)Math.Sqrt(norm);
        }

        return Core.Quantizer.QuantizeUnit(x).AsBytes().ToArray();
    }
}
