using System.CommandLine;
using System.Diagnostics;
using FaceIndex.Cli.Import;
using FaceIndex.Protocol.V1;
using Grpc.Core;
using Spectre.Console;

namespace FaceIndex.Cli.Commands;

/// <summary>
/// <c>faceindex import PATH --server URL</c>: bulk enrolment from a folder per person or a CSV manifest,
/// over parallel EnrollStream calls, with a progress bar, a resumable state file and a failure report.
/// Exit code 0 when every item was stored (or was already), 1 when some failed (see the report), 2 on an error.
/// </summary>
internal static class ImportCommand
{
    public static Command Create(IAnsiConsole console)
    {
        var source = new Argument<string>("PATH") { Description = "A folder with one sub-folder per person (its name is the person id), or a CSV manifest: person_id,path[,tags] (tags as key=value;key=value)" };
        var policy = new Option<string>("--policy") { Description = "Faces to enrol per image: largest, all, or exactly-one (refuse images with several faces)", DefaultValueFactory = _ => "largest" };
        var parallel = new Option<int>("--parallel", "-p") { Description = "EnrollStream calls at once", DefaultValueFactory = _ => 4 };
        var inFlight = new Option<int>("--in-flight") { Description = "Images in flight per stream", DefaultValueFactory = _ => 16 };
        var create = new Option<bool>("--create-collection") { Description = "Create the collection when it does not exist" };
        var statePath = new Option<string?>("--state") { Description = "State file that makes a re-run skip what is stored (default: ./.faceindex/import-<hash>.state)" };
        var reportPath = new Option<string>("--report") { Description = "CSV report of the images that failed and why", DefaultValueFactory = _ => "import-report.csv" };
        var maxBytes = new Option<long>("--max-bytes") { Description = "Largest image file sent; larger ones are reported (the server refuses messages over Server:MaxMessageBytes)", DefaultValueFactory = _ => 16L << 20 };
        var server = new ServerClientOptions();
        var import = new Command("import", "Enrol many images: a folder per person or a CSV manifest, streamed to the server in parallel; resumable and idempotent, with a report of the failures.");
        import.Add(source);
        import.Add(policy);
        import.Add(parallel);
        import.Add(inFlight);
        import.Add(create);
        import.Add(statePath);
        import.Add(reportPath);
        import.Add(maxBytes);
        server.AddTo(import);
        import.SetAction((parse, ct) => ServerClientOptions.RunAsync(console, async () =>
        {
            var path = parse.GetValue(source)!;
            var collection = server.Collection(parse);
            var facePolicy = ParsePolicy(parse.GetValue(policy)!);
            int streams = parse.GetValue(parallel);
            int window = parse.GetValue(inFlight);
            if (streams is < 1 or > 64 || window is < 1 or > 1024)
            {
                throw new ArgumentException("--parallel must lie in [1, 64] and --in-flight in [1, 1024].");
            }

            var items = ImportSource.Read(path);
            using var channel = server.Connect(parse);
            var client = new Protocol.V1.FaceIndex.FaceIndexClient(channel);
            await EnsureCollectionAsync(client, collection, parse.GetValue(create), ct).ConfigureAwait(false);
            using var state = ImportState.Open(parse.GetValue(statePath) ?? ImportState.DefaultPath(path, server.ServerAddress(parse), collection));
            var importer = new Importer(client, collection, facePolicy, streams, window, parse.GetValue(maxBytes), state);
            var clock = Stopwatch.StartNew();
            var summary = await WithProgressAsync(console, items.Count, progress => importer.RunAsync(items, progress, ct)).ConfigureAwait(false);
            var report = parse.GetValue(reportPath)!;
            summary.WriteReport(report);
            Print(console, summary, items.Count, clock.Elapsed, report, state.Path);
            return summary.Failed > 0 ? 1 : 0;
        }));
        return import;
    }

    private static FacePolicy ParsePolicy(string text) => text.ToLowerInvariant() switch
    {
        "largest" => FacePolicy.Largest,
        "all" => FacePolicy.All,
        "exactly-one" => FacePolicy.ExactlyOne,
        _ => throw new ArgumentException($"--policy must be largest, all or exactly-one; got '{text}'."),
    };

    private static async Task EnsureCollectionAsync(Protocol.V1.FaceIndex.FaceIndexClient client, string collection, bool create, CancellationToken ct)
    {
        if (create)
        {
            try
            {
                await client.CreateCollectionAsync(new CreateCollectionRequest { Name = collection }, cancellationToken: ct).ConfigureAwait(false);
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.AlreadyExists)
            {
                // Nothing to do.
            }

            return;
        }

        try
        {
            await client.StatsAsync(new StatsRequest { Collection = collection }, cancellationToken: ct).ConfigureAwait(false);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.NotFound)
        {
            throw new ArgumentException($"Collection '{collection}' does not exist on the server; pass --create-collection to create it.");
        }
    }

    /// <summary>Runs the import behind a progress bar (rate and time left) when the console is interactive.</summary>
    private static async Task<ImportSummary> WithProgressAsync(IAnsiConsole console, int total, Func<Action<ImportSummary>, Task<ImportSummary>> run)
    {
        if (!console.Profile.Capabilities.Interactive)
        {
            return await run(_ => { }).ConfigureAwait(false);
        }

        ImportSummary? result = null;
        var clock = Stopwatch.StartNew();
        await console.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask($"importing {total:N0} images", maxValue: total);
                result = await run(summary =>
                {
                    long done = summary.Done;
                    task.Value = done;
                    task.Description = $"{done:N0}/{total:N0} images, {done / Math.Max(clock.Elapsed.TotalSeconds, 1e-3):N1}/s, {summary.Failed:N0} failed";
                }).ConfigureAwait(false);
                task.Value = total;
            }).ConfigureAwait(false);
        return result!;
    }

    private static void Print(IAnsiConsole console, ImportSummary summary, int total, TimeSpan elapsed, string report, string state)
    {
        var table = new Table().AddColumns("outcome", "images");
        table.AddRow("enrolled", $"{summary.Enrolled:N0} ({summary.Faces:N0} faces)");
        table.AddRow("already stored (server)", summary.Duplicates.ToString("N0", System.Globalization.CultureInfo.InvariantCulture));
        table.AddRow("skipped (earlier run)", summary.Skipped.ToString("N0", System.Globalization.CultureInfo.InvariantCulture));
        foreach (var (reason, count) in summary.FailuresByReason.OrderByDescending(r => r.Value))
        {
            table.AddRow($"failed: {reason}", count.ToString("N0", System.Globalization.CultureInfo.InvariantCulture));
        }

        console.Write(table);
        double rate = (total - summary.Skipped) / Math.Max(elapsed.TotalSeconds, 1e-3);
        console.MarkupLineInterpolated($"{total:N0} images in {elapsed.TotalSeconds:N1} s ({rate:N1}/s). Failures: {report}. State: {state}.");
    }
}
