using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using FaceIndex.Cli.Import;
using FaceIndex.Protocol.V1;
using Grpc.Core;
using Spectre.Console;

namespace FaceIndex.Cli.Commands;

/// <summary>
/// <c>faceindex import PATH --server URL</c>: bulk enrolment from a folder per person or a CSV manifest,
/// over parallel EnrollStream calls, with a progress bar, a resumable state file and a failure report.
/// Exit code 0 when every item was stored (or was already), 1 when some failed (see the report), 2 on an error,
/// 130 when interrupted (Ctrl-C or SIGINT; 143 for SIGTERM).
/// </summary>
/// <remarks>
/// An interruption is graceful: the first Ctrl-C (SIGINT or SIGTERM) stops sending and waits up to
/// <c>--drain-timeout</c> for the answers of the images in flight, a second one stops waiting, a third
/// ends the process at once. The state file, the report and a summary line are written either way.
/// The verb handles the signals itself (<see cref="HandlesTermination"/>), not System.CommandLine, whose
/// handler would end the invocation two seconds after the first signal.
/// </remarks>
internal static class ImportCommand
{
    /// <summary>Exit code of an import interrupted by Ctrl-C, SIGINT or the caller's cancellation (as shells report SIGINT).</summary>
    public const int ExitInterrupted = 130;

    /// <summary>Exit code of an import interrupted by SIGTERM (as shells report SIGTERM).</summary>
    public const int ExitTerminated = 143;

    /// <summary>True for the import verb: it handles Ctrl-C and SIGTERM itself.</summary>
    public static bool HandlesTermination(Command command) => command.Name == "import" && command.Parents.OfType<RootCommand>().Any();

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
        var drain = new Option<double>("--drain-timeout") { Description = "Seconds to wait, after Ctrl-C, for the answers of the images in flight (a second Ctrl-C stops waiting)", DefaultValueFactory = _ => 5 };
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
        import.Add(drain);
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

            double drainSeconds = parse.GetValue(drain);
            if (!(drainSeconds is >= 0 and <= 3600))
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"--drain-timeout must lie in [0, 3600] seconds; got {drainSeconds}."));
            }

            var items = ImportSource.Read(path);
            using var channel = server.Connect(parse);
            var client = new Protocol.V1.FaceIndex.FaceIndexClient(channel);
            await EnsureCollectionAsync(client, collection, parse.GetValue(create), ct).ConfigureAwait(false);
            using var state = ImportState.Open(parse.GetValue(statePath) ?? ImportState.DefaultPath(path, server.ServerAddress(parse), collection));
            var importer = new Importer(client, collection, facePolicy, streams, window, parse.GetValue(maxBytes), state);
            using var interrupt = new Interrupt(console, TimeSpan.FromSeconds(drainSeconds), ct);
            var clock = Stopwatch.StartNew();
            var summary = await WithProgressAsync(console, items.Count, progress => importer.RunAsync(items, progress, interrupt.Stop, interrupt.Abort)).ConfigureAwait(false);
            var report = parse.GetValue(reportPath)!;
            summary.WriteReport(report);
            Print(console, summary, items.Count, clock.Elapsed, report, state.Path);
            if (summary.Interrupted)
            {
                long notFinished = summary.NotFinished(items.Count);
                console.MarkupLineInterpolated(
                    $"[yellow]Interrupted[/] after {summary.Done:N0} of {items.Count:N0} images: {summary.Enrolled:N0} stored, {summary.Duplicates:N0} already stored, {summary.Skipped:N0} skipped (earlier run), {summary.Failed:N0} failed, {notFinished - summary.Unanswered:N0} not sent, {summary.Unanswered:N0} sent without an answer. To resume, run the same command again: the state file {state.Path} skips what is stored, and the server answers 'already stored' for what it holds.");
                return interrupt.ExitCode;
            }

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
        double rate = (summary.Done - summary.Skipped) / Math.Max(elapsed.TotalSeconds, 1e-3);
        console.MarkupLineInterpolated($"{summary.Done:N0} of {total:N0} images in {elapsed.TotalSeconds:N1} s ({rate:N1}/s). Failures: {report}. State: {state}.");
    }

    /// <summary>
    /// Ctrl-C, SIGINT and SIGTERM during an import: the first (or the caller's cancellation) cancels
    /// <see cref="Stop"/> and, after the drain timeout, <see cref="Abort"/>; the second cancels
    /// <see cref="Abort"/> at once; a third is left to the default action, which ends the process.
    /// </summary>
    private sealed class Interrupt : IDisposable
    {
        private readonly IAnsiConsole _console;
        private readonly TimeSpan _drain;
        private readonly CancellationTokenSource _stop;
        private readonly CancellationTokenSource _abort = new();
        private readonly CancellationTokenRegistration _onStop;
        private readonly PosixSignalRegistration _sigint;
        private readonly PosixSignalRegistration _sigterm;
        private int _signals;

        public Interrupt(IAnsiConsole console, TimeSpan drain, CancellationToken caller)
        {
            _console = console;
            _drain = drain;
            _stop = CancellationTokenSource.CreateLinkedTokenSource(caller);
            _onStop = _stop.Token.Register(OnStop);
            _sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
            _sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        }

        /// <summary>Send nothing more.</summary>
        public CancellationToken Stop => _stop.Token;

        /// <summary>Cancel the calls: stop waiting for answers.</summary>
        public CancellationToken Abort => _abort.Token;

        /// <summary>130, or 143 when the first signal was SIGTERM.</summary>
        public int ExitCode { get; private set; } = ExitInterrupted;

        public void Dispose()
        {
            _sigint.Dispose();
            _sigterm.Dispose();
            _onStop.Dispose();
            _stop.Dispose();
            _abort.Dispose();
        }

        private void OnSignal(PosixSignalContext context)
        {
            switch (Interlocked.Increment(ref _signals))
            {
                case 1:
                    context.Cancel = true;
                    ExitCode = context.Signal == PosixSignal.SIGTERM ? ExitTerminated : ExitInterrupted;
                    _stop.Cancel();
                    break;
                case 2:
                    context.Cancel = true;
                    _console.MarkupLine("[yellow]Interrupted again:[/] not waiting for the answers in flight.");
                    _abort.Cancel();
                    break;
                default:
                    // The default action: the process ends at once.
                    break;
            }
        }

        private void OnStop()
        {
            _console.MarkupLineInterpolated(
                $"[yellow]Interrupted:[/] sending stops; waiting up to {_drain.TotalSeconds:N0} s for the answers of the images in flight (Ctrl-C again to stop waiting).");
            _abort.CancelAfter(_drain);
        }
    }
}
