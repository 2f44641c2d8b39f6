using System.Diagnostics;
using FaceIndex.Protocol.V1;
using FaceIndex.Storage;
using FaceIndex.Testing;
using Google.Protobuf;
using Grpc.Core;
using V1 = FaceIndex.Protocol.V1;

namespace FaceIndex.CrashTests;

/// <summary>Where a run's kill lands.</summary>
internal enum KillPoint
{
    /// <summary>At a random moment of the enrol load (EnrollStream, unary vector and image enrols).</summary>
    Enrol,

    /// <summary>At a random moment of a delete-heavy load (DeleteFace, DeletePerson racing enrols).</summary>
    Delete,

    /// <summary>As soon as a store checkpoint starts writing (a new file under kv-checkpoints/).</summary>
    Checkpoint,

    /// <summary>As soon as an index snapshot starts writing (index/*.tmp appears).</summary>
    Snapshot,

    /// <summary>
    /// Clients cancel mid-write: a fraction of the vector Enroll and EnrollStream calls are cancelled by
    /// their client right after sending. Half-way, the load stops and the live server is checked
    /// ("stored ⇒ searchable" before any restart); then the load resumes and the kill lands at a random moment.
    /// </summary>
    Cancel,
}

/// <summary>Settings of a harness run.</summary>
/// <param name="Runs">Kill points (server lives killed and restarted).</param>
/// <param name="Seed">Seeds the workload and the kill delays.</param>
/// <param name="Images">Also enrol images of ../shared/faces (slow on small machines, but the real path).</param>
/// <param name="Log">Progress lines.</param>
/// <param name="ExtraSettings">More server settings (<c>--Section:Setting=value</c>), after the harness's own.</param>
/// <param name="Points">The kill points in turn (default: every <see cref="KillPoint"/> in turn).</param>
internal sealed record CrashOptions(int Runs, int Seed, bool Images, TextWriter Log, IReadOnlyList<string>? ExtraSettings = null, IReadOnlyList<KillPoint>? Points = null);

/// <summary>The counts of a harness run; <see cref="Passed"/> when nothing acknowledged was lost and the index agreed with the store.</summary>
internal sealed class CrashReport
{
    public int Runs { get; set; }

    public Dictionary<KillPoint, int> Kills { get; } = [];

    /// <summary>Kills at Checkpoint/Snapshot whose start was not seen within the wait (the kill then fell at a random moment).</summary>
    public int EventsMissed { get; set; }

    public long AcknowledgedFaces { get; set; }

    public long AcknowledgedDeletes { get; set; }

    public long Adopted { get; set; }

    public long Lost { get; set; }

    public long Resurrected { get; set; }

    public long Mismatches { get; set; }

    public long UnexpectedErrors { get; set; }

    public long SearchesChecked { get; set; }

    /// <summary>Enrols that clients cancelled right after sending (undecided: stored or not).</summary>
    public long CancelledEnrols { get; set; }

    /// <summary>Cancelled enrols that were stored all the same (each must be searchable like any other face).</summary>
    public long CancelledStored { get; set; }

    /// <summary>Searches of the live-server checks (before the kill, after clients cancelled writes).</summary>
    public long LiveSearchesChecked { get; set; }

    /// <summary>Faces the live server stored but a search with their own vector did not find (the live "stored ⇒ searchable" check).</summary>
    public long LiveNotFound { get; set; }

    public long FacesAtEnd { get; set; }

    public double MaxRestartSeconds { get; set; }

    public List<string> Problems { get; } = [];

    public bool Passed => Lost == 0 && Resurrected == 0 && Mismatches == 0 && LiveNotFound == 0 && UnexpectedErrors == 0 && Problems.Count == 0 && Runs > 0;

    public override string ToString() =>
        $"runs {Runs} (kill points: {string.Join(", ", Kills.OrderBy(k => k.Key).Select(k => $"{k.Key.ToString().ToLowerInvariant()} {k.Value}"))}; start events missed {EventsMissed}), " +
        $"acknowledged faces {AcknowledgedFaces}, acknowledged deletes {AcknowledgedDeletes}, stored without ack {Adopted}, " +
        $"lost {Lost}, deletes undone {Resurrected}, index/store mismatches {Mismatches}, unexpected errors {UnexpectedErrors}, " +
        $"searches checked {SearchesChecked}, cancelled enrols {CancelledEnrols} (stored all the same {CancelledStored}), " +
        $"live searches checked {LiveSearchesChecked}, live stored but not found {LiveNotFound}, " +
        $"faces at end {FacesAtEnd}, slowest restart {MaxRestartSeconds:F1} s" +
        (Problems.Count == 0 ? "" : "\nproblems:\n  " + string.Join("\n  ", Problems.Take(20)));
}

/// <summary>
/// The crash harness: runs the real <c>faceindex serve</c> as a child process over one data directory,
/// drives enrols (vectors over EnrollStream and unary calls, images) and deletes against it, kills it
/// with SIGKILL at a kill point, restarts it, and checks every promise of DESIGN.md's "Storage and
/// recovery": every acknowledged face is stored and searchable, every acknowledged delete stays
/// deleted, the index holds exactly the store's faces, and the server answers. Stored implies
/// searchable for every face the store holds, the cancelled-then-stored ones included, and at the
/// "cancel" kill point also on the live server before the kill.
/// </summary>
internal static partial class CrashHarness
{
    public const string Collection = "crash";

    /// <summary>Small storage, frequent checkpoints and snapshots, graph search always (never the exact scan), builders never pausing.</summary>
    public static readonly string[] ServerSettings =
    [
        "--Storage:MemoryBudgetBytes=" + (16L << 20),
        "--Storage:IndexBuckets=" + (1L << 14),
        "--Storage:WalMemoryBytes=" + (4L << 20),
        "--Storage:SegmentSizeBytes=" + (16L << 20),
        "--Storage:CheckpointInterval=00:00:00.300",
        "--Indexing:SnapshotInterval=00:00:01",
        "--Indexing:ExactSearchBelow=0",
        "--Indexing:YieldAboveWritesPerSecond=0",
        "--Indexing:BuildThreads=1",
        "--Vision:Sessions=1",
    ];

    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(90);

    public static async Task<CrashReport> RunAsync(CrashOptions options)
    {
        var report = new CrashReport();
        var random = new Random(options.Seed);
        var ledger = new Ledger();
        using var work = TestPaths.NewTempDirectory();
        var data = Path.Combine(work.Path, "data");
        var logPath = Path.Combine(work.Path, "server.log");
        var images = options.Images ? LoadImages() : [];
        options.Log.WriteLine($"crash harness: {options.Runs} runs, seed {options.Seed}, {images.Count} images, data {data}, server log {logPath}");

        string[] settings = [.. ServerSettings, .. options.ExtraSettings ?? []];
        var server = await StartAsync(data, logPath, settings, report);
        try
        {
            await server.Client.CreateCollectionAsync(new CreateCollectionRequest { Name = Collection });
            var modelVersion = (await server.Client.StatsAsync(new StatsRequest())).ModelVersion;
            for (int run = 1; run <= options.Runs; run++)
            {
                var point = options.Points is { Count: > 0 } points ? points[(run - 1) % points.Count] : (KillPoint)((run - 1) % 5);
                var delayMs = random.Next(300, 2000);
                var workload = new Workload(server.Client, ledger, Collection, modelVersion, images, new Random(random.Next())) { CancelFraction = point == KillPoint.Cancel ? 0.3 : 0 };
                var seen = await LoadAndKillAsync(server, workload, point, delayMs, run, data, ledger, report);
                report.Kills[point] = report.Kills.GetValueOrDefault(point) + 1;
                report.EventsMissed += seen ? 0 : 1;
                report.UnexpectedErrors += workload.UnexpectedErrors;
                if (workload.FirstUnexpected is { } first)
                {
                    report.Problems.Add($"run {run}: unexpected client error: {first}");
                }

                await server.DisposeAsync();
                var stored = await ReadStoreOfflineAsync(data, work.Path);
                long cancelledBefore = ledger.CancelledStored;
                foreach (var vector in stored.Vectors.Values)
                {
                    ledger.SeenStored(vector);
                }

                var (lost, resurrected) = ledger.Reconcile(stored.Owners);
                report.Lost += lost.Count;
                report.Resurrected += resurrected.Count;
                foreach (var id in lost.Take(5))
                {
                    report.Problems.Add($"run {run}: acknowledged face {id} lost");
                }

                foreach (var id in resurrected.Take(5))
                {
                    report.Problems.Add($"run {run}: deleted face {id} is back");
                }

                server = await StartAsync(data, logPath, settings, report);
                var mismatches = await CheckServerAsync(server.Client, stored, ledger, report, run);
                report.Mismatches += mismatches;
                report.Runs = run;
                options.Log.WriteLine(
                    $"run {run,3} {point,-10} {(seen ? "start seen" : "no start seen, random moment"),-28} sent {workload.Sent,6}, " +
                    $"faces stored {stored.Owners.Count,6}, live acknowledged {ledger.LiveCount,6}, lost {lost.Count}, undone {resurrected.Count}, mismatches {mismatches}" +
                    (point == KillPoint.Cancel ? $", cancelled calls {workload.Cancelled}, cancelled enrols stored {ledger.CancelledStored - cancelledBefore} (all searched)" : ""));
            }

            // The graceful path too: SIGTERM (drain, snapshot, checkpoint), then the same checks.
            if (!await server.StopAsync(TimeSpan.FromSeconds(60)))
            {
                report.Problems.Add("graceful shutdown took over 60 s");
            }

            await server.DisposeAsync();
            var final = await ReadStoreOfflineAsync(data, work.Path);
            var (finalLost, finalBack) = ledger.Reconcile(final.Owners);
            report.Lost += finalLost.Count;
            report.Resurrected += finalBack.Count;
            server = await StartAsync(data, logPath, settings, report);
            report.Mismatches += await CheckServerAsync(server.Client, final, ledger, report, options.Runs + 1);
            report.FacesAtEnd = final.Owners.Count;
        }
        catch (Exception ex)
        {
            report.Problems.Add("harness stopped: " + ex.Message);
        }
        finally
        {
            await server.DisposeAsync();
        }

        report.CancelledEnrols = ledger.CancelledEnrols;
        report.CancelledStored = ledger.CancelledStored;
        report.AcknowledgedFaces = ledger.AcknowledgedFaces;
        report.AcknowledgedDeletes = ledger.AcknowledgedDeletes;
        report.Adopted = ledger.Adopted;
        options.Log.WriteLine(report.ToString());
        return report;
    }

    private static async Task<ServerProcess> StartAsync(string data, string logPath, string[] settings, CrashReport report)
    {
        var clock = Stopwatch.StartNew();
        var server = await ServerProcess.StartAsync(data, TestPaths.Models, logPath, settings, s_startTimeout);
        report.MaxRestartSeconds = Math.Max(report.MaxRestartSeconds, clock.Elapsed.TotalSeconds);
        return server;
    }

    /// <summary>
    /// Runs the workload and kills the server: after <paramref name="delayMs"/> for enrol and delete
    /// points; for checkpoint and snapshot points at the first file event of one starting after the load
    /// has run 200 ms (or after 10 s without one); for the cancel point, the load (with cancelled calls)
    /// runs for the delay (and until 20 calls were cancelled), stops for the live check, then runs again
    /// until the kill after half the delay.
    /// Returns false when the awaited event did not come.
    /// </summary>
    private static async Task<bool> LoadAndKillAsync(ServerProcess server, Workload workload, KillPoint point, int delayMs, int run, string data, Ledger ledger, CrashReport report)
    {
        if (point == KillPoint.Cancel)
        {
            using (var pause = new CancellationTokenSource())
            {
                // At least 20 calls cancelled by their clients and 50 live faces before the live check (on a busy machine the first second may see few), at most 15 s.
                var first = workload.RunAsync(deleteHeavy: false, run, pause.Token);
                var clock = Stopwatch.StartNew();
                await Task.Delay(delayMs);
                while ((Interlocked.Read(ref workload.Cancelled) < 20 || ledger.LiveCount < 50) && clock.Elapsed < TimeSpan.FromSeconds(15) && !first.IsCompleted)
                {
                    await Task.Delay(50);
                }

                await pause.CancelAsync();
                await first;
            }

            await CheckLiveAsync(server.Client, ledger, report, run);
            delayMs /= 2;
        }

        using var stop = new CancellationTokenSource();
        var armed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        bool isArmed = false;
        void Kill()
        {
            workload.Killed = true;
            server.Kill();
            armed.TrySetResult();
        }

        using var watcher = point switch
        {
            KillPoint.Checkpoint => Watch(Path.Combine(data, "kv-checkpoints"), "*", () => Volatile.Read(ref isArmed), Kill),
            KillPoint.Snapshot => Watch(Path.Combine(data, "index"), "*.tmp", () => Volatile.Read(ref isArmed), Kill),
            _ => null,
        };
        var load = workload.RunAsync(point == KillPoint.Delete, run, stop.Token);
        bool seen = true;
        if (watcher is null)
        {
            await Task.Delay(delayMs);
            Kill();
        }
        else
        {
            await Task.Delay(200);
            Volatile.Write(ref isArmed, true);
            seen = await Task.WhenAny(armed.Task, Task.Delay(TimeSpan.FromSeconds(10))) == armed.Task;
            Kill();
        }

        await stop.CancelAsync();
        await load;
        return seen;
    }

    private static FileSystemWatcher Watch(string directory, string filter, Func<bool> armed, Action kill)
    {
        Directory.CreateDirectory(directory);
        var watcher = new FileSystemWatcher(directory, filter) { IncludeSubdirectories = true, NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName };
        watcher.Created += (_, _) =>
        {
            if (armed())
            {
                kill();
            }
        };
        watcher.EnableRaisingEvents = true;
        return watcher;
    }

    /// <summary>What the store holds: face id → person, and the vectors.</summary>
    internal sealed record StoreContents(Dictionary<long, string> Owners, Dictionary<long, ByteString> Vectors);

    /// <summary>
    /// Opens a copy of the killed server's data directory with <see cref="FaceStore"/> in this process
    /// (so that the server's own recovery still starts from the crash state) and reads every face.
    /// </summary>
    private static async Task<StoreContents> ReadStoreOfflineAsync(string data, string work)
    {
        var copy = Path.Combine(work, "offline-" + Guid.NewGuid().ToString("N"));
        CopyDirectory(data, copy);
        try
        {
            var options = new StorageOptions
            {
                DataDirectory = copy,
                MemoryBudgetBytes = 16L << 20,
                IndexBuckets = 1L << 14,
                WalMemoryBytes = 4L << 20,
                SegmentSizeBytes = 16L << 20,
                CheckpointInterval = TimeSpan.FromHours(1),
            };
            var owners = new Dictionary<long, string>();
            var vectors = new Dictionary<long, ByteString>();
            await using (var store = await FaceStore.OpenAsync(options))
            {
                foreach (long id in store.GetFaceIds(Collection))
                {
                    if (store.TryGetFace(id, out var face))
                    {
                        owners[id] = face.PersonId;
                        vectors[id] = ByteString.CopyFrom(face.Vector.AsBytes());
                    }
                }
            }

            return new StoreContents(owners, vectors);
        }
        finally
        {
            Directory.Delete(copy, recursive: true);
        }
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }

        foreach (var directory in Directory.EnumerateDirectories(from))
        {
            CopyDirectory(directory, Path.Combine(to, Path.GetFileName(directory)));
        }
    }

    private static List<ByteString> LoadImages()
    {
        var folder = TestPaths.Faces("deepface");
        return [.. Directory.EnumerateFiles(folder, "*.jpg").Order(StringComparer.Ordinal).Select(f => ByteString.CopyFrom(File.ReadAllBytes(f)))];
    }

    /// <summary>
    /// Checks the restarted server against the store read offline: the same faces (Stats, and every
    /// person's face list), the index holding exactly them (once the builder has drained the pending
    /// faces, indexed = faces; each face
    /// found by a graph search with its own vector; no search returns a face the store lacks or a
    /// deleted one). Returns the number of disagreements.
    /// </summary>
    private static async Task<long> CheckServerAsync(V1.FaceIndex.FaceIndexClient client, StoreContents stored, Ledger ledger, CrashReport report, int run)
    {
        long mismatches = 0;
        void Problem(string text)
        {
            mismatches++;
            if (report.Problems.Count < 50)
            {
                report.Problems.Add($"run {run}: {text}");
            }
        }

        var stats = await client.StatsAsync(new StatsRequest { Collection = Collection });
        if (stats.Faces != stored.Owners.Count)
        {
            Problem($"Stats.faces {stats.Faces} but the store holds {stored.Owners.Count}");
        }

        // The graph and the pending tail are counted one after the other while the builder moves faces
        // from one to the other, so their sum may be off by the faces in motion; once the builder has
        // drained the tail the graph must hold exactly the store's faces.
        var drained = stats;
        for (int wait = 0; wait < 600 && drained.PendingFaces > 0; wait++)
        {
            await Task.Delay(100);
            drained = await client.StatsAsync(new StatsRequest { Collection = Collection });
        }

        if (drained.PendingFaces != 0 || drained.IndexedFaces != stats.Faces)
        {
            Problem($"index holds {drained.IndexedFaces} + {drained.PendingFaces} pending after the builder drained, but the store {stats.Faces}");
        }

        var listed = await ListFacesAsync(client);
        foreach (var id in stored.Owners.Keys.Where(id => !listed.ContainsKey(id)))
        {
            Problem($"face {id} of the store is missing from its person");
        }

        foreach (var id in listed.Keys.Where(id => !stored.Owners.ContainsKey(id)))
        {
            Problem($"face {id} listed by a person but not in the store");
        }

        // Every stored face by its own vector, through the graph (ExactSearchBelow=0), four at a time.
        var ids = stored.Owners.Keys.ToArray();
        int next = -1;
        var found = new System.Collections.Concurrent.ConcurrentBag<string>();
        var workers = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < ids.Length)
            {
                long id = ids[i];
                var reply = await client.SearchAsync(new SearchRequest
                {
                    Collection = Collection,
                    Vector = new V1.FaceVector { Data = stored.Vectors[id], ModelVersion = stats.ModelVersion },
                    TopK = 64,
                    Threshold = 0.1f, // a code is not exactly unit length: its own distance is 0 ± 0.01
                    Ef = 512,
                });
                var matches = reply.Faces[0].Matches;
                if (!matches.Any(m => (long)m.FaceId == id))
                {
                    found.Add($"stored face {id} of {stored.Owners[id]} not found by a search with its own vector (best: {(matches.Count > 0 ? $"{matches[0].FaceId} at {matches[0].Distance}" : "none")}, {matches.Count} matches)");
                }

                foreach (var match in matches)
                {
                    if (!stored.Owners.ContainsKey((long)match.FaceId))
                    {
                        found.Add($"search returned face {match.FaceId}, which the store does not hold{(ledger.IsDeleted((long)match.FaceId) ? " (deleted)" : "")}");
                    }
                }
            }
        }));
        await Task.WhenAll(workers);
        foreach (var text in found.Distinct())
        {
            Problem(text);
        }

        report.SearchesChecked += ids.Length;

        // The server takes writes again.
        var probe = await client.EnrollAsync(new EnrollRequest { Collection = Collection, PersonId = "probe", Vector = new V1.FaceVector { Data = ByteString.CopyFrom(Workload.RandomVector(new Random(run)).AsBytes()), ModelVersion = stats.ModelVersion } });
        foreach (var face in probe.Faces)
        {
            ledger.AckEnrol((long)face.FaceId, "probe");
        }

        return mismatches;
    }

    /// <summary>
    /// The live check of the cancel point, with the clients stopped and the server still running (no
    /// restart has reconciled anything): every face that ListPersons and GetPerson show, and that was
    /// enrolled by vector (its "v" tag names the vector in the ledger), is found by a graph search with
    /// its own vector; a face a cancelled enrol stored counts like any other. A face not found at once
    /// is tried again for up to 2 s (the applier may be finishing the last commits); one still not
    /// found is stored but unsearchable, issue 11's defect.
    /// </summary>
    private static async Task CheckLiveAsync(V1.FaceIndex.FaceIndexClient client, Ledger ledger, CrashReport report, int run)
    {
        var stats = await client.StatsAsync(new StatsRequest { Collection = Collection });
        var faces = (await ListFacesAsync(client)).Values.ToArray();
        int next = -1;
        long searched = 0;
        long cancelledSearched = 0;
        var notFound = new System.Collections.Concurrent.ConcurrentBag<string>();
        var workers = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < faces.Length)
            {
                var face = faces[i];
                if (!face.Tags.TryGetValue("v", out var key) || !ledger.TryGetVector(key, out var vector))
                {
                    continue; // an image enrol: the offline checks search it after the restart
                }

                Interlocked.Increment(ref searched);
                bool cancelled = ledger.SeenStored(vector);
                if (cancelled)
                {
                    Interlocked.Increment(ref cancelledSearched);
                }

                var request = new SearchRequest
                {
                    Collection = Collection,
                    Vector = new V1.FaceVector { Data = vector, ModelVersion = stats.ModelVersion },
                    TopK = 64,
                    Threshold = 0.1f,
                    Ef = 512,
                };
                bool found = false;
                for (int attempt = 0; attempt < 20 && !found; attempt++)
                {
                    if (attempt > 0)
                    {
                        await Task.Delay(100);
                    }

                    var reply = await client.SearchAsync(request);
                    found = reply.Faces[0].Matches.Any(m => m.FaceId == face.FaceId);
                }

                if (!found)
                {
                    notFound.Add($"live: face {face.FaceId} of {face.PersonId}{(cancelled ? " (its enrol was cancelled by the client)" : "")} is stored but a search with its own vector does not find it");
                }
            }
        }));
        await Task.WhenAll(workers);
        report.LiveSearchesChecked += searched;
        report.LiveNotFound += notFound.Count;
        foreach (var text in notFound.Take(10))
        {
            report.Problems.Add($"run {run}: {text}");
        }

        if (notFound.Count > 10)
        {
            report.Problems.Add($"run {run}: live: {notFound.Count} stored faces in all are not found by a search with their own vector ({cancelledSearched} of the {searched} searched were stored by cancelled enrols)");
        }
    }

    private static async Task<Dictionary<long, Face>> ListFacesAsync(V1.FaceIndex.FaceIndexClient client)
    {
        var faces = new Dictionary<long, Face>();
        string token = "";
        do
        {
            var page = await client.ListPersonsAsync(new ListPersonsRequest { Collection = Collection, PageSize = 1000, PageToken = token });
            foreach (var summary in page.Persons)
            {
                try
                {
                    var person = await client.GetPersonAsync(new GetPersonRequest { Collection = Collection, PersonId = summary.PersonId });
                    foreach (var face in person.Faces)
                    {
                        faces[(long)face.FaceId] = face;
                    }
                }
                catch (RpcException ex) when (ex.StatusCode == StatusCode.NotFound)
                {
                    // Listed, then emptied: cannot happen without writers, and the count check reports it.
                }
            }

            token = page.NextPageToken;
        }
        while (token.Length > 0);
        return faces;
    }
}
