using System.Threading.Channels;
using FaceIndex.Core;
using Grpc.Core;
using V1 = FaceIndex.Protocol.V1;

namespace FaceIndex.Server.Internal;

/// <summary>
/// EnrollStream's machinery, the same on a single node and in cluster mode (each passes how one request
/// is enrolled): reads the stream and enrols up to a window of requests at a time; results go back in
/// request order, one per request, those that are ready sharing one flush; a failed item is reported in
/// its result and does not end the stream; a message that does not parse ends the call after the
/// results before it; a call that ends early returns only once its items and its writer have ended.
/// </summary>
internal static class EnrollStreams
{
    public static async Task RunAsync(
        IAsyncStreamReader<V1.EnrollRequest> requestStream,
        IServerStreamWriter<V1.EnrollStreamResult> responseStream,
        int windowSize,
        Func<V1.EnrollRequest, CancellationToken, Task<V1.EnrollResponse>> enrol,
        CancellationToken ct)
    {
        using var window = new SemaphoreSlim(windowSize);
        var inFlight = Channel.CreateUnbounded<Task<V1.EnrollStreamResult>>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        var writer = Task.Run(
            async () =>
            {
                var buffered = new WriteOptions(WriteFlags.BufferHint);
                await foreach (var result in inFlight.Reader.ReadAllAsync(ct).ConfigureAwait(false))
                {
                    var reply = await result.ConfigureAwait(false);

                    // Results that are ready behind this one share its flush (one frame write, not one per result).
                    responseStream.WriteOptions = inFlight.Reader.TryPeek(out var next) && next.IsCompleted ? buffered : null;
                    await responseStream.WriteAsync(reply, ct).ConfigureAwait(false);
                }
            },
            ct);

        int index = 0;
        RpcException? malformed = null;
        bool readToEnd = false;
        try
        {
            await foreach (var request in requestStream.ReadAllAsync(ct).ConfigureAwait(false))
            {
                await window.WaitAsync(ct).ConfigureAwait(false);
                var item = EnrollItemAsync(index++, request, enrol, window, ct);
                await inFlight.Writer.WriteAsync(item, ct).ConfigureAwait(false);
            }

            readToEnd = true;
        }
        catch (RpcException e) when (e.Trailers.GetValue(Errors.ReasonTrailer) == RequestBinder.MalformedReason)
        {
            // The stream cannot be read past a message that does not parse: the results before it
            // still go out, then the call ends with the position of the bad message.
            malformed = Errors.Rpc(e.StatusCode, RequestBinder.MalformedReason, $"Message {index} of the stream: {e.Status.Detail}");
            readToEnd = true;
        }
        catch (IOException e)
        {
            // The client reset the stream (it cancelled the call) or its connection broke: a cancelled
            // call, not a fault of the server. What it sent before is processed as any cancelled write.
            throw Errors.Rpc(StatusCode.Cancelled, "CANCELLED", $"The client ended the stream after {index} messages: {e.Message}");
        }
        finally
        {
            inFlight.Writer.TryComplete();
            if (!readToEnd)
            {
                // The call ends early (cancelled, reset), but its items and its writer still use the
                // call's context and response stream: ASP.NET Core disposes the request as soon as this
                // method returns (an item reading the caller's identity then threw "Request has finished
                // and HttpContext disposed" under load). Return only once they have all ended.
                await WhenAllEndedAsync(writer, window, windowSize, ct).ConfigureAwait(false);
            }
        }

        try
        {
            await writer.ConfigureAwait(false);
        }
        catch
        {
            // The response could not be written: the items still running end before the call does.
            await WhenAllEndedAsync(writer, window, windowSize, ct).ConfigureAwait(false);
            throw;
        }

        if (malformed is not null)
        {
            throw malformed;
        }
    }

    /// <summary>Waits until every item of the stream has ended (each holds a window slot until then) and the writer too.</summary>
    private static async Task WhenAllEndedAsync(Task writer, SemaphoreSlim window, int slots, CancellationToken ct)
    {
        for (int i = 0; i < slots; i++)
        {
            await window.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        }

        try
        {
            await writer.ConfigureAwait(false);
        }
        catch (Exception ex) when (ct.IsCancellationRequested || ex is IOException or InvalidOperationException)
        {
            // The writer stopped at the cancel, or wrote to a stream the client had already reset; the
            // call's own exception is the one that counts.
        }
    }

    private static async Task<V1.EnrollStreamResult> EnrollItemAsync(int index, V1.EnrollRequest request, Func<V1.EnrollRequest, CancellationToken, Task<V1.EnrollResponse>> enrol, SemaphoreSlim window, CancellationToken ct)
    {
        var result = new V1.EnrollStreamResult { Index = index, ClientRef = request.ClientRef };
        try
        {
            result.Response = await enrol(request, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RpcException or FaceIndexException)
        {
            var rpc = ex as RpcException ?? Errors.ToRpc((FaceIndexException)ex);
            result.Error = new V1.ErrorDetail
            {
                Code = (int)rpc.StatusCode,
                Message = rpc.Status.Detail,
                Reason = rpc.Trailers.GetValue(Errors.ReasonTrailer) ?? rpc.StatusCode.ToString(),
            };
        }
        finally
        {
            window.Release();
        }

        return result;
    }
}
