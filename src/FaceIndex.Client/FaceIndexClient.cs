using FaceIndex.Protocol.V1;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Grpc.Net.Client.Configuration;

namespace FaceIndex.Client;

/// <summary>
/// A typed client of a FaceIndex server over one gRPC channel: every call carries the API key and a
/// deadline (<see cref="FaceIndexClientOptions.DefaultDeadline"/> unless the caller gives one), and calls
/// that fail with Unavailable are retried with exponential backoff by the channel's service config.
/// The generated client is <see cref="Raw"/> for calls this class does not wrap. Thread-safe; keep one.
/// </summary>
public sealed class FaceIndexClient : IDisposable
{
    private readonly GrpcChannel _channel;

    /// <summary>Connects (lazily, on the first call) with <paramref name="options"/>.</summary>
    public FaceIndexClient(FaceIndexClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        _channel = GrpcChannel.ForAddress(options.Address, new GrpcChannelOptions
        {
            HttpHandler = options.HttpHandler,
            MaxReceiveMessageSize = options.MaxMessageBytes,
            MaxSendMessageSize = options.MaxMessageBytes,
            ServiceConfig = RetryConfig(options),
        });
        Raw = new Protocol.V1.FaceIndex.FaceIndexClient(_channel.Intercept(new CallDefaults(options)));
    }

    /// <summary>The options the client was made with.</summary>
    public FaceIndexClientOptions Options { get; }

    /// <summary>The generated client on the same channel (API key, deadlines and retries included).</summary>
    public Protocol.V1.FaceIndex.FaceIndexClient Raw { get; }

    /// <summary>The service config: Unavailable is retried up to MaxAttempts with exponential backoff.</summary>
    public static ServiceConfig RetryConfig(FaceIndexClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var method = new MethodConfig { Names = { MethodName.Default } };
        if (options.MaxAttempts > 1)
        {
            method.RetryPolicy = new RetryPolicy
            {
                MaxAttempts = options.MaxAttempts,
                InitialBackoff = options.InitialBackoff,
                MaxBackoff = options.MaxBackoff,
                BackoffMultiplier = 2,
                RetryableStatusCodes = { StatusCode.Unavailable },
            };
        }

        return new ServiceConfig { MethodConfigs = { method } };
    }

    /// <summary>Creates a collection; AlreadyExists when it does.</summary>
    public async Task<Collection> CreateCollectionAsync(string name, CancellationToken ct = default) =>
        await Raw.CreateCollectionAsync(new CreateCollectionRequest { Name = name }, cancellationToken: ct).ConfigureAwait(false);

    /// <summary>Enrols the largest face of an image (or every face, by <paramref name="policy"/>) under a person.</summary>
    public async Task<EnrollResponse> EnrollAsync(string collection, string personId, ReadOnlyMemory<byte> image, FacePolicy policy = FacePolicy.Largest, CancellationToken ct = default) =>
        await Raw.EnrollAsync(new EnrollRequest { Collection = collection, PersonId = personId, Image = ByteString.CopyFrom(image.Span), FacePolicy = policy }, cancellationToken: ct).ConfigureAwait(false);

    /// <summary>Identifies every face of an image; each face's matches come best first, and grouped by person.</summary>
    public async Task<SearchResponse> SearchAsync(string collection, ReadOnlyMemory<byte> image, int topK = 0, CancellationToken ct = default) =>
        await Raw.SearchAsync(new SearchRequest { Collection = collection, Image = ByteString.CopyFrom(image.Span), TopK = topK }, cancellationToken: ct).ConfigureAwait(false);

    /// <summary>Whether an image shows an enrolled person.</summary>
    public async Task<VerifyResponse> VerifyAsync(string collection, ReadOnlyMemory<byte> image, string personId, CancellationToken ct = default) =>
        await Raw.VerifyAsync(new VerifyRequest { Collection = collection, ImageA = ByteString.CopyFrom(image.Span), PersonId = personId }, cancellationToken: ct).ConfigureAwait(false);

    /// <summary>A person with their faces; NotFound when absent.</summary>
    public async Task<Person> GetPersonAsync(string collection, string personId, CancellationToken ct = default) =>
        await Raw.GetPersonAsync(new GetPersonRequest { Collection = collection, PersonId = personId }, cancellationToken: ct).ConfigureAwait(false);

    /// <summary>Counts and index state (one collection, or all when null).</summary>
    public async Task<StatsResponse> StatsAsync(string? collection = null, CancellationToken ct = default) =>
        await Raw.StatsAsync(new StatsRequest { Collection = collection ?? "" }, cancellationToken: ct).ConfigureAwait(false);

    /// <summary>
    /// Streams a folder of photos (one sub-folder per person) into a collection over one EnrollStream call, with at
    /// most <paramref name="window"/> images in flight; files over <paramref name="maxImageBytes"/> (keep it under the
    /// server's Server:MaxMessageBytes, 16 MiB by default) are reported as IMAGE_TOO_LARGE without being sent.
    /// </summary>
    public Task<ImportSummary> ImportFolderAsync(string collection, string folder, IProgress<ImportProgress>? progress = null, int window = 64, long maxImageBytes = (16 << 20) - 4096, CancellationToken ct = default) =>
        FolderImport.RunAsync(this, collection, folder, progress, window, maxImageBytes, ct);

    /// <summary>The machine-readable reason of a FaceIndex error (NO_FACE, NOT_FOUND, …), or null.</summary>
    public static string? ReasonOf(RpcException error)
    {
        ArgumentNullException.ThrowIfNull(error);
        return error.Trailers.GetValue("faceindex-reason");
    }

    public void Dispose() => _channel.Dispose();

    /// <summary>Adds the API key and the default deadline to every call.</summary>
    private sealed class CallDefaults(FaceIndexClientOptions options) : Interceptor
    {
        public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(TRequest request, ClientInterceptorContext<TRequest, TResponse> context, AsyncUnaryCallContinuation<TRequest, TResponse> continuation) =>
            continuation(request, With(context));

        public override AsyncDuplexStreamingCall<TRequest, TResponse> AsyncDuplexStreamingCall<TRequest, TResponse>(ClientInterceptorContext<TRequest, TResponse> context, AsyncDuplexStreamingCallContinuation<TRequest, TResponse> continuation) =>
            continuation(With(context, streaming: true));

        private ClientInterceptorContext<TRequest, TResponse> With<TRequest, TResponse>(ClientInterceptorContext<TRequest, TResponse> context, bool streaming = false)
            where TRequest : class
            where TResponse : class
        {
            var headers = context.Options.Headers ?? [];
            if (options.ApiKey is { } key && headers.GetValue("x-api-key") is null)
            {
                headers.Add("x-api-key", key);
            }

            // A stream's length is the caller's (an import runs for as long as the folder takes); unary calls get the default deadline.
            var deadline = context.Options.Deadline ?? (streaming ? null : DateTime.UtcNow + options.DefaultDeadline);
            return new ClientInterceptorContext<TRequest, TResponse>(context.Method, context.Host, context.Options.WithHeaders(headers).WithDeadline(deadline ?? DateTime.MaxValue));
        }
    }
}
