using System.Diagnostics;
using FaceIndex.Core;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Logging;

namespace FaceIndex.Server.Internal;

/// <summary>
/// Outermost interceptor of every call: maps domain errors to their status (<see cref="Errors"/>),
/// turns unexpected faults into Internal without their text, logs, and records the call's metrics.
/// </summary>
internal sealed partial class CallInterceptor(ServerMetrics metrics, ILogger<CallInterceptor> logger) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        long started = Stopwatch.GetTimestamp();
        try
        {
            var response = await continuation(request, context).ConfigureAwait(false);
            Record(context, started, StatusCode.OK);
            return response;
        }
        catch (Exception ex)
        {
            throw Fail(context, started, ex);
        }
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        long started = Stopwatch.GetTimestamp();
        try
        {
            var response = await continuation(requestStream, context).ConfigureAwait(false);
            Record(context, started, StatusCode.OK);
            return response;
        }
        catch (Exception ex)
        {
            throw Fail(context, started, ex);
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        long started = Stopwatch.GetTimestamp();
        try
        {
            await continuation(request, responseStream, context).ConfigureAwait(false);
            Record(context, started, StatusCode.OK);
        }
        catch (Exception ex)
        {
            throw Fail(context, started, ex);
        }
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        long started = Stopwatch.GetTimestamp();
        try
        {
            await continuation(requestStream, responseStream, context).ConfigureAwait(false);
            Record(context, started, StatusCode.OK);
        }
        catch (Exception ex)
        {
            throw Fail(context, started, ex);
        }
    }

    private RpcException Fail(ServerCallContext context, long started, Exception ex)
    {
        var rpc = ex switch
        {
            RpcException r => r,
            FaceIndexException f => Errors.ToRpc(f),
            OperationCanceledException when context.CancellationToken.IsCancellationRequested && context.Deadline <= DateTime.UtcNow =>
                Errors.Rpc(StatusCode.DeadlineExceeded, "DEADLINE_EXCEEDED", "The call's deadline passed before it finished; a write already submitted is kept (a retry answers 'already stored')."),
            OperationCanceledException when context.CancellationToken.IsCancellationRequested =>
                Errors.Rpc(StatusCode.Cancelled, "CANCELLED", "The call was cancelled by the client; a write already submitted is kept (a retry answers 'already stored')."),
            _ => null,
        };

        if (rpc is null)
        {
            LogFault(logger, context.Method, ex);
            rpc = Errors.Rpc(StatusCode.Internal, "INTERNAL", "The server failed to process the request; the fault is in its log.");
        }
        else if (rpc.StatusCode is StatusCode.Cancelled or StatusCode.DeadlineExceeded)
        {
            LogCancelled(logger, context.Method);
        }
        else if (rpc.StatusCode is StatusCode.Unavailable or StatusCode.Internal)
        {
            LogUnavailable(logger, context.Method, rpc.StatusCode, rpc.Status.Detail);
        }
        else
        {
            LogRefused(logger, context.Method, rpc.StatusCode, rpc.Status.Detail);
        }

        Record(context, started, rpc.StatusCode);
        return rpc;
    }

    private void Record(ServerCallContext context, long started, StatusCode code) =>
        metrics.Call(MethodName(context.Method), code.ToString(), Stopwatch.GetElapsedTime(started).TotalSeconds);

    private static string MethodName(string method) => method[(method.LastIndexOf('/') + 1)..];

    [LoggerMessage(5050, LogLevel.Error, "{Method} failed with an unexpected fault")]
    private static partial void LogFault(ILogger logger, string method, Exception exception);

    [LoggerMessage(5051, LogLevel.Information, "{Method} was cancelled by the client or its deadline passed")]
    private static partial void LogCancelled(ILogger logger, string method);

    [LoggerMessage(5052, LogLevel.Debug, "{Method} refused: {Code} {Detail}")]
    private static partial void LogRefused(ILogger logger, string method, StatusCode code, string detail);

    [LoggerMessage(5053, LogLevel.Warning, "{Method} could not be served: {Code} {Detail}")]
    private static partial void LogUnavailable(ILogger logger, string method, StatusCode code, string detail);
}
