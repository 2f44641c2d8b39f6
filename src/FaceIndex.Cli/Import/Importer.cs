using System.Collections.Concurrent;
using System.Globalization;
using System.Threading.Channels;
using FaceIndex.Protocol.V1;
using Google.Protobuf;
using Grpc.Core;

namespace FaceIndex.Cli.Import;

/// <summary>How one item of an import ended.</summary>
internal enum ImportOutcome
{
    /// <summary>Its faces were stored.</summary>
    Enrolled,

    /// <summary>The server held it already (same image bytes, person and collection).</summary>
    Duplicate,

    /// <summary>An earlier run stored it (from the state file); not sent again.</summary>
    Skipped,

    /// <summary>It was refused or could not be read; the report says why.</summary>
    Failed,
}

/// <summary>The counts of an import run, and its failures.</summary>
internal sealed class ImportSummary
{
    private long _enrolled;
    private long _duplicates;
    private long _skipped;
    private long _failed;
    private long _faces;
    private long _unanswered;

    public long Enrolled => Interlocked.Read(ref _enrolled);

    public long Duplicates => Interlocked.Read(ref _duplicates);

    public long Skipped => Interlocked.Read(ref _skipped);

    public long Failed => Interlocked.Read(ref _failed);

    public long Faces => Interlocked.Read(ref _faces);

    public long Done => Enrolled + Duplicates + Skipped + Failed;

    /// <summary>Items sent whose answer never came because the run was interrupted: the server may or may not hold them.</summary>
    public long Unanswered => Interlocked.Read(ref _unanswered);

    /// <summary>True when the run was interrupted (Ctrl-C, SIGTERM or the caller's cancellation) before every item was tried.</summary>
    public bool Interrupted { get; set; }

    /// <summary>Items not finished: never sent, or sent without an answer (an interrupted run).</summary>
    public long NotFinished(int total) => total - Done;

    /// <summary>Failed items: key, person, reason, message.</summary>
    public ConcurrentQueue<(string Key, string Person, string Reason, string Message)> Failures { get; } = new();

    /// <summary>Failures counted by reason.</summary>
    public IReadOnlyDictionary<string, int> FailuresByReason =>
        Failures.GroupBy(f => f.Reason).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);

    public void Count(ImportOutcome outcome, int faces = 0)
    {
        switch (outcome)
        {
            case ImportOutcome.Enrolled:
                Interlocked.Increment(ref _enrolled);
                Interlocked.Add(ref _faces, faces);
                break;
            case ImportOutcome.Duplicate:
                Interlocked.Increment(ref _duplicates);
                break;
            case ImportOutcome.Skipped:
                Interlocked.Increment(ref _skipped);
                break;
            default:
                Interlocked.Increment(ref _failed);
                break;
        }
    }

    /// <summary>Records an item that was sent but not answered before the interrupted run ended; the report lists it.</summary>
    public void CountUnanswered(ImportItem item)
    {
        Interlocked.Increment(ref _unanswered);
        Unfinished.Enqueue((item.Key, item.PersonId, "INTERRUPTED", "Sent, but the run was interrupted before the server answered: it may or may not be stored; a resumed import sends it again (the server answers 'already stored' when it holds it)."));
    }

    /// <summary>Items sent without an answer (an interrupted run): key, person, reason, message.</summary>
    public ConcurrentQueue<(string Key, string Person, string Reason, string Message)> Unfinished { get; } = new();

    /// <summary>Writes the failures (and the items an interruption left unanswered) as CSV: path,person_id,reason,message.</summary>
    public void WriteReport(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        using var writer = new StreamWriter(path);
        writer.WriteLine("path,person_id,reason,message");
        foreach (var (key, person, reason, message) in Failures.Concat(Unfinished).OrderBy(f => f.Key, StringComparer.Ordinal))
        {
            writer.WriteLine(string.Join(',', Csv(key), Csv(person), Csv(reason), Csv(message)));
        }
    }

    private static string Csv(string field) =>
        field.Contains(',', StringComparison.Ordinal) || field.Contains('"', StringComparison.Ordinal) || field.Contains('\n', StringComparison.Ordinal)
            ? "\"" + field.Replace("\"", "\"\"", StringComparison.Ordinal) + "\""
            : field;
}

/// <summary>
/// Sends images to a server over several EnrollStream calls at once, each with a bounded number of
/// requests in flight; records every stored item in the <see cref="ImportState"/> and every failure in
/// the summary. Local problems (unreadable or oversized files) are reported without sending.
/// </summary>
/// <remarks>
/// Two tokens end a run early. <c>stop</c> (the first Ctrl-C) stops sending: each stream completes its
/// request side and reads the answers of what it sent, so that the state file records them.
/// <c>abort</c> (a second Ctrl-C, or the drain timeout) cancels the calls; what was sent and not yet
/// answered is counted as unanswered. A cancelled call never undoes a write the server took: a
/// resumed import sends those items again and the server answers "already stored".
/// </remarks>
internal sealed class Importer(
    Protocol.V1.FaceIndex.FaceIndexClient client,
    string collection,
    FacePolicy policy,
    int streams,
    int inFlightPerStream,
    long maxImageBytes,
    ImportState state)
{
    /// <summary>Imports <paramref name="items"/>; <paramref name="progress"/> is called after each item.</summary>
    public Task<ImportSummary> RunAsync(IReadOnlyList<ImportItem> items, Action<ImportSummary>? progress, CancellationToken ct) =>
        RunAsync(items, progress, ct, ct);

    /// <summary>
    /// Imports <paramref name="items"/> until done, or until <paramref name="stop"/> (send nothing
    /// more, collect the answers of what is in flight) or <paramref name="abort"/> (cancel the calls).
    /// </summary>
    public async Task<ImportSummary> RunAsync(IReadOnlyList<ImportItem> items, Action<ImportSummary>? progress, CancellationToken stop, CancellationToken abort)
    {
        var summary = new ImportSummary();
        var queue = Channel.CreateBounded<ImportItem>(new BoundedChannelOptions(streams * inFlightPerStream) { SingleWriter = true });
        var workers = Enumerable.Range(0, streams).Select(_ => RunStreamAsync(queue.Reader, summary, progress, stop, abort)).ToArray();
        try
        {
            foreach (var item in items)
            {
                if (stop.IsCancellationRequested)
                {
                    break;
                }

                var file = new FileInfo(item.Path);
                if (state.IsDone(item, file))
                {
                    summary.Count(ImportOutcome.Skipped);
                    progress?.Invoke(summary);
                    continue;
                }

                await queue.Writer.WriteAsync(item, stop).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Interrupted: what is queued and not taken by a stream is not sent.
        }
        finally
        {
            queue.Writer.TryComplete();
        }

        await Task.WhenAll(workers).ConfigureAwait(false);
        summary.Interrupted = stop.IsCancellationRequested || abort.IsCancellationRequested;
        return summary;
    }

    private async Task RunStreamAsync(ChannelReader<ImportItem> queue, ImportSummary summary, Action<ImportSummary>? progress, CancellationToken stop, CancellationToken abort)
    {
        using var call = client.EnrollStream(cancellationToken: abort);
        using var window = new SemaphoreSlim(inFlightPerStream);
        var sent = new ConcurrentDictionary<string, (ImportItem Item, FileInfo File)>(StringComparer.Ordinal);
        var reader = Task.Run(
            async () =>
            {
                await foreach (var result in call.ResponseStream.ReadAllAsync(abort).ConfigureAwait(false))
                {
                    if (sent.TryRemove(result.ClientRef, out var entry))
                    {
                        Record(entry.Item, entry.File, result, summary);
                        progress?.Invoke(summary);
                    }

                    window.Release();
                }
            },
            CancellationToken.None);

        try
        {
            await SendAsync(call, queue, window, sent, summary, progress, stop, abort).ConfigureAwait(false);
            await call.RequestStream.CompleteAsync().ConfigureAwait(false);
            await reader.ConfigureAwait(false);
        }
        catch (Exception ex) when (abort.IsCancellationRequested && ex is OperationCanceledException or RpcException { StatusCode: StatusCode.Cancelled })
        {
            // Aborted: the answers still missing are counted below.
        }

        if (abort.IsCancellationRequested)
        {
            try
            {
                await reader.ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or RpcException { StatusCode: StatusCode.Cancelled })
            {
                // The call was cancelled by the abort.
            }

            foreach (var (_, (item, _)) in sent)
            {
                summary.CountUnanswered(item);
            }

            sent.Clear();
        }
    }

    /// <summary>Sends what the queue holds until it is empty or <paramref name="stop"/> is requested.</summary>
    private async Task SendAsync(
        AsyncDuplexStreamingCall<EnrollRequest, EnrollStreamResult> call,
        ChannelReader<ImportItem> queue,
        SemaphoreSlim window,
        ConcurrentDictionary<string, (ImportItem Item, FileInfo File)> sent,
        ImportSummary summary,
        Action<ImportSummary>? progress,
        CancellationToken stop,
        CancellationToken abort)
    {
        long next = 0;
        try
        {
            await foreach (var item in queue.ReadAllAsync(stop).ConfigureAwait(false))
            {
                var file = new FileInfo(item.Path);
                byte[] bytes;
                try
                {
                    if (file.Exists && file.Length > maxImageBytes)
                    {
                        Fail(summary, item, "TOO_LARGE", $"The file is {file.Length:N0} bytes; the limit is {maxImageBytes:N0} (--max-bytes, and the server's Server:MaxMessageBytes).");
                        progress?.Invoke(summary);
                        continue;
                    }

                    bytes = await File.ReadAllBytesAsync(item.Path, stop).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    Fail(summary, item, "UNREADABLE_FILE", ex.Message);
                    progress?.Invoke(summary);
                    continue;
                }

                await window.WaitAsync(stop).ConfigureAwait(false);
                var reference = (next++).ToString(CultureInfo.InvariantCulture);
                sent[reference] = (item, file);
                var request = new EnrollRequest
                {
                    Collection = collection,
                    PersonId = item.PersonId,
                    Image = ByteString.CopyFrom(bytes),
                    FacePolicy = policy,
                    ClientRef = reference,
                };
                foreach (var (key, value) in item.Tags)
                {
                    request.Tags[key] = value;
                }

                // Once taken, an item is sent whole: only the abort cancels a write in progress.
                await call.RequestStream.WriteAsync(request, abort).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested && !abort.IsCancellationRequested)
        {
            // Interrupted: send nothing more; the answers of what was sent are still read.
        }
    }

    private void Record(ImportItem item, FileInfo file, EnrollStreamResult result, ImportSummary summary)
    {
        if (result.OutcomeCase == EnrollStreamResult.OutcomeOneofCase.Response)
        {
            summary.Count(result.Response.Duplicate ? ImportOutcome.Duplicate : ImportOutcome.Enrolled, result.Response.Faces.Count);
            state.MarkDone(item, file);
        }
        else
        {
            Fail(summary, item, result.Error.Reason, result.Error.Message);
        }
    }

    private static void Fail(ImportSummary summary, ImportItem item, string reason, string message)
    {
        summary.Failures.Enqueue((item.Key, item.PersonId, reason, message));
        summary.Count(ImportOutcome.Failed);
    }
}
