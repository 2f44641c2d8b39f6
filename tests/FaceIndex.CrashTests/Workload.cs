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
/// run until the server dies or <c>ct</c> is cancelled.
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

    /// <summary>Runs the mix until the server is gone; <paramref name="deleteHeavy"/> runs two deleters without pauses.</summary>
    public Task RunAsync(bool deleteHeavy, int runNumber, CancellationToken ct)
    {
        var tasks = new List<Task>
        {
            Guard(() => StreamEnrolAsync(ct)),
            Guard(() => UnaryEnrolAsync(ct)),
            Guard(() => DeleteAsync(deleteHeavy ? 0 : 15, ct)),
        };
        if (images.Count > 0)
        {
            tasks.Add(Guard(() => ImageEnrolAsync(runNumber, ct)));
        }

        if (deleteHeavy)
        {
            tasks.Add(Guard(() => DeleteAsync(0, ct)));
        }

        return Task.WhenAll(tasks);
    }

    /// <summary>A random quantized unit vector.</summary>
    public static FaceVector RandomVector(Random random) => RandomVectors.Next(random);

    private V1.FaceVector NextVector()
    {
        lock (_randomGate)
        {
            return new V1.FaceVector { Data = ByteString.CopyFrom(RandomVector(random).AsBytes()), ModelVersion = modelVersion };
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
            await call.RequestStream.WriteAsync(new EnrollRequest { Collection = collection, PersonId = person, Vector = NextVector(), ClientRef = reference }, ct);
        }

        await reader;
    }

    private async Task UnaryEnrolAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            var person = VectorPerson();
            Interlocked.Increment(ref Sent);
            var reply = await client.EnrollAsync(new EnrollRequest { Collection = collection, PersonId = person, Vector = NextVector() }, cancellationToken: ct);
            foreach (var face in reply.Faces)
            {
                ledger.AckEnrol((long)face.FaceId, person);
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

    /// <summary>Ends a client quietly when the server dies under it; counts anything else.</summary>
    private async Task Guard(Func<Task> run)
    {
        try
        {
            await Task.Run(run);
        }
        catch (Exception) when (Killed)
        {
            // The server was killed: whatever was in flight is unacknowledged.
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception ex)
        {
            Interlocked.Increment(ref UnexpectedErrors);
            Interlocked.CompareExchange(ref FirstUnexpected, ex.ToString(), null);
        }
    }
}
