using FaceIndex.Protocol.V1;
using FaceIndex.Testing;
using Google.Protobuf;
using Grpc.Core;
using FaceVector = FaceIndex.Core.FaceVector;
using V1 = FaceIndex.Protocol.V1;

namespace FaceIndex.CrashTests;

/// <summary>
/// The clients of one crash run: an EnrollStream of vectors, unary enrols of vectors, unary enrols of
/// images, and deleters (DeleteFace, and now and then DeletePerson of a person that is still being
/// enrolled). Each records in the <see cref="Ledger"/> exactly what the server acknowledged. They
/// run until the server dies or <c>ct</c> is cancelled. With <see cref="CancelFraction"/> above 0
/// (the "client cancels mid-write" kill point) the unary vector enrols cancel that fraction of their
/// calls right after sending (a deadline of a few milliseconds, or the token), and short EnrollStreams
/// are cancelled by their client right after their last request; the ledger marks what was sent and
/// not answered as undecided. Every vector enrolled carries its ledger key in the tag "v".
/// </summary>
internal sealed class Workload(V1.FaceIndex.FaceIndexClient client, Ledger ledger, string collection, string modelVersion, IReadOnlyList<ByteString> images, Random random)
{
    /// <summary>Vector persons are drawn from a small pool so that persons collect faces and DeletePerson races enrols.</summary>
    private const int PersonPool = 64;

    private readonly Lock _randomGate = new();
    private long _imageSequence;

    /// <summary>Requests sent (some unanswered at the kill).</summary>
    public long Sent;

    /// <summary>Calls that failed for another reason than the server dying or a refused image (must stay 0).</summary>
    public long UnexpectedErrors;

    /// <summary>The first unexpected error, for the report.</summary>
    public string? FirstUnexpected;

    /// <summary>Set just before the server is killed: from then on, failed calls are expected.</summary>
    public volatile bool Killed;

    /// <summary>Calls that the client cancelled right after sending them.</summary>
    public long Cancelled;

    /// <summary>Fraction of the vector enrol calls that the client cancels right after sending (0: none).</summary>
    public double CancelFraction { get; init; }

    /// <summary>Runs the mix until the server is gone; <paramref name="deleteHeavy"/> runs two deleters without pauses.</summary>
    public Task RunAsync(bool deleteHeavy, int runNumber, CancellationToken ct)
    {
        var tasks = new List<Task>
        {
            Guard(() => StreamEnrolAsync(ct), ct),
            Guard(() => UnaryEnrolAsync(ct), ct),
            Guard(() => DeleteAsync(deleteHeavy ? 0 : 15, ct), ct),
        };
        if (CancelFraction > 0)
        {
            tasks.Add(Guard(() => CancellingStreamsAsync(ct), ct));
        }

        if (images.Count > 0)
        {
            tasks.Add(Guard(() => ImageEnrolAsync(runNumber, ct), ct));
        }

        if (deleteHeavy)
        {
            tasks.Add(Guard(() => DeleteAsync(0, ct), ct));
        }

        return Task.WhenAll(tasks);
    }

    /// <summary>A random quantized unit vector.</summary>
    public static FaceVector RandomVector(Random random) => RandomVectors.Next(random);

    /// <summary>An enrol of a fresh random vector for <paramref name="person"/>, its ledger key in the tag "v".</summary>
    private EnrollRequest VectorEnrol(string person)
    {
        ByteString data;
        lock (_randomGate)
        {
            data = ByteString.CopyFrom(RandomVector(random).AsBytes());
        }

        var request = new EnrollRequest { Collection = collection, PersonId = person, Vector = new V1.FaceVector { Data = data, ModelVersion = modelVersion } };
        request.Tags["v"] = ledger.NewVector(data);
        return request;
    }

    private double NextDouble()
    {
        lock (_randomGate)
        {
            return random.NextDouble();
        }
    }

    private int Next(int max)
    {
        lock (_randomGate)
        {
            return random.Next(max);
        }
    }

    private string VectorPerson() => "v-" + Next(PersonPool);

    private async Task StreamEnrolAsync(CancellationToken ct)
    {
        using var call = client.EnrollStream(cancellationToken: ct);
        using var window = new SemaphoreSlim(32);
        var persons = new System.Collections.Concurrent.ConcurrentDictionary<string, string>();
        var reader = Task.Run(
            async () =>
            {
                await foreach (var result in call.ResponseStream.ReadAllAsync(ct))
                {
                    window.Release();
                    if (persons.TryRemove(result.ClientRef, out var person) && result.Response is { } response)
                    {
                        foreach (var face in response.Faces)
                        {
                            ledger.AckEnrol((long)face.FaceId, person);
                        }
                    }
                }
            },
            CancellationToken.None);
        long n = 0;
        while (!ct.IsCancellationRequested && !reader.IsCompleted)
        {
            await window.WaitAsync(ct);
            var reference = (n++).ToString(System.Globalization.CultureInfo.InvariantCulture);
            var person = VectorPerson();
            persons[reference] = person;
            Interlocked.Increment(ref Sent);
            var request = VectorEnrol(person);
            request.ClientRef = reference;
            await call.RequestStream.WriteAsync(request, ct);
        }

        await reader;
    }

    private async Task UnaryEnrolAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            var person = VectorPerson();
            var request = VectorEnrol(person);
            Interlocked.Increment(ref Sent);
            EnrollResponse reply;
            if (CancelFraction > 0 && NextDouble() < CancelFraction)
            {
                // Cancelled right after sending: a deadline of 1-4 ms, or the token 0-2 ms later.
                using var cancel = CancellationTokenSource.CreateLinkedTokenSource(ct);
                bool byDeadline = Next(2) == 0;
                int ms = Next(byDeadline ? 4 : 3);
                try
                {
                    using var call = byDeadline
                        ? client.EnrollAsync(request, deadline: DateTime.UtcNow.AddMilliseconds(1 + ms), cancellationToken: ct)
                        : client.EnrollAsync(request, cancellationToken: cancel.Token);
                    if (!byDeadline)
                    {
                        cancel.CancelAfter(ms);
                    }

                    reply = await call.ResponseAsync;
                }
                catch (RpcException ex) when (!ct.IsCancellationRequested && ex.StatusCode is StatusCode.Cancelled or StatusCode.DeadlineExceeded)
                {
                    Interlocked.Increment(ref Cancelled);
                    ledger.Undecided(request.Vector.Data);
                    continue;
                }
            }
            else
            {
                reply = await client.EnrollAsync(request, cancellationToken: ct);
            }

            foreach (var face in reply.Faces)
            {
                ledger.AckEnrol((long)face.FaceId, person);
            }
        }
    }

    /// <summary>
    /// Short EnrollStreams of vectors (20 to 220 requests, written without waiting for answers); a
    /// <see cref="CancelFraction"/> of them are cancelled by the client right after their last request,
    /// the others completed. What was sent and not answered in a cancelled stream is undecided.
    /// </summary>
    private async Task CancellingStreamsAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            using var cancel = CancellationTokenSource.CreateLinkedTokenSource(ct);
            using var call = client.EnrollStream(cancellationToken: cancel.Token);
            var pending = new System.Collections.Concurrent.ConcurrentDictionary<string, (string Person, ByteString Vector)>(StringComparer.Ordinal);
            var reader = Task.Run(
                async () =>
                {
                    try
                    {
                        await foreach (var result in call.ResponseStream.ReadAllAsync(cancel.Token))
                        {
                            if (pending.TryRemove(result.ClientRef, out var sent) && result.Response is { } response)
                            {
                                foreach (var face in response.Faces)
                                {
                                    ledger.AckEnrol((long)face.FaceId, sent.Person);
                                }
                            }
                        }
                    }
                    catch (Exception ex) when (cancel.IsCancellationRequested && ex is OperationCanceledException or RpcException { StatusCode: StatusCode.Cancelled })
                    {
                        // Cancelled by this client (or the end of the load).
                    }
                },
                CancellationToken.None);
            int count = 20 + Next(200);
            bool cancelIt = NextDouble() < CancelFraction;
            try
            {
                for (int i = 0; i < count; i++)
                {
                    var person = VectorPerson();
                    var request = VectorEnrol(person);
                    request.ClientRef = i.ToString(System.Globalization.CultureInfo.InvariantCulture);
                    pending[request.ClientRef] = (person, request.Vector.Data);
                    Interlocked.Increment(ref Sent);
                    await call.RequestStream.WriteAsync(request, cancel.Token);
                }

                if (cancelIt)
                {
                    Interlocked.Increment(ref Cancelled);
                    await cancel.CancelAsync();
                }
                else
                {
                    await call.RequestStream.CompleteAsync();
                }
            }
            catch (Exception ex) when (cancel.IsCancellationRequested && ex is OperationCanceledException or RpcException { StatusCode: StatusCode.Cancelled } or InvalidOperationException)
            {
                // Cancelled while writing.
            }

            await reader;
            if (cancel.IsCancellationRequested && !Killed)
            {
                foreach (var (_, sent) in pending)
                {
                    ledger.Undecided(sent.Vector);
                }
            }
        }
    }

    private async Task ImageEnrolAsync(int runNumber, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            long n = Interlocked.Increment(ref _imageSequence);
            var person = $"img-{runNumber}-{n}";
            var image = images[Next(images.Count)];
            Interlocked.Increment(ref Sent);
            try
            {
                var reply = await client.EnrollAsync(new EnrollRequest { Collection = collection, PersonId = person, Image = image }, cancellationToken: ct);
                foreach (var face in reply.Faces)
                {
                    ledger.AckEnrol((long)face.FaceId, person);
                }
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.InvalidArgument)
            {
                // An image without a usable face: refused, as it should be.
            }
        }
    }

    private async Task DeleteAsync(int pauseMs, CancellationToken ct)
    {
        int n = 0;
        while (!ct.IsCancellationRequested)
        {
            if (pauseMs > 0)
            {
                await Task.Delay(pauseMs, ct);
            }

            if (++n % 10 == 0)
            {
                await DeletePersonAsync(VectorPerson(), ct);
                continue;
            }

            bool picked;
            long faceId;
            lock (_randomGate)
            {
                picked = ledger.TryPickLive(random, out faceId);
            }

            if (!picked)
            {
                await Task.Delay(5, ct);
                continue;
            }

            ledger.DeleteSent(faceId);
            Interlocked.Increment(ref Sent);
            try
            {
                await client.DeleteFaceAsync(new DeleteFaceRequest { Collection = collection, FaceId = (ulong)faceId }, cancellationToken: ct);
                ledger.AckDelete(faceId);
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.NotFound)
            {
                // Deleted meanwhile by a DeletePerson, whose reply records it. The delete stays "in
                // flight" until then, so the store's state after the next kill decides, never this reply.
            }
        }
    }

    private async Task DeletePersonAsync(string person, CancellationToken ct)
    {
        Interlocked.Increment(ref Sent);
        ledger.PersonDeleteSent(person);
        try
        {
            var reply = await client.DeletePersonAsync(new DeletePersonRequest { Collection = collection, PersonId = person }, cancellationToken: ct);
            foreach (var faceId in reply.DeletedFaceIds)
            {
                ledger.AckDelete((long)faceId);
            }

            ledger.PersonDeleteDone(person);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.NotFound)
        {
            // No face of this person right now.
            ledger.PersonDeleteDone(person);
        }
    }

    /// <summary>Ends a client quietly when the server dies under it or the load ends; counts anything else.</summary>
    private async Task Guard(Func<Task> run, CancellationToken ct)
    {
        try
        {
            await Task.Run(run, CancellationToken.None);
        }
        catch (Exception) when (Killed)
        {
            // The server was killed: whatever was in flight is unacknowledged.
        }
        catch (OperationCanceledException)
        {
        }
        catch (RpcException ex) when (ct.IsCancellationRequested && ex.StatusCode == StatusCode.Cancelled)
        {
            // The load ended (before a live check) with this call in flight: unacknowledged.
        }
        catch (Exception ex)
        {
            Interlocked.Increment(ref UnexpectedErrors);
            Interlocked.CompareExchange(ref FirstUnexpected, ex.ToString(), null);
        }
    }
}
