using System.Security.Cryptography;
using System.Text;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Options;

namespace FaceIndex.Server.Internal;

/// <summary>What a caller may do: the collections of its key, and whether it may write.</summary>
internal sealed class Caller
{
    /// <summary>The caller of a server without authentication: everything.</summary>
    public static readonly Caller Anyone = new("anonymous", null, readOnly: false);

    private readonly HashSet<string>? _collections;

    public Caller(string name, IEnumerable<string>? collections, bool readOnly)
    {
        Name = name;
        _collections = collections is null || collections.Contains("*") ? null : new HashSet<string>(collections, StringComparer.Ordinal);
        ReadOnly = readOnly;
    }

    public string Name { get; }

    public bool ReadOnly { get; }

    public bool MaySee(string collection) => _collections is null || _collections.Contains(collection);

    /// <summary>Throws PermissionDenied unless the caller may use the collection (and write, when asked).</summary>
    public void Demand(string collection, bool write)
    {
        if (!MaySee(collection))
        {
            throw Errors.Rpc(StatusCode.PermissionDenied, "PERMISSION_DENIED", $"This API key may not use collection '{collection}'.");
        }

        if (write && ReadOnly)
        {
            throw Errors.Rpc(StatusCode.PermissionDenied, "PERMISSION_DENIED", "This API key is read-only: it may not enrol or delete.");
        }
    }

    /// <summary>The caller that the API-key interceptor attached to the call (everyone when authentication is off).</summary>
    public static Caller Of(ServerCallContext context) =>
        context.UserState.TryGetValue(ApiKeyInterceptor.CallerKey, out var caller) && caller is Caller c ? c : Anyone;
}

/// <summary>
/// Authenticates FaceIndex calls by API key when <see cref="AuthOptions.Enabled"/>: attaches the
/// <see cref="Caller"/> for the service to authorise per collection, or refuses the call with
/// Unauthenticated. Keys are compared as SHA-256 digests in constant time.
/// </summary>
internal sealed class ApiKeyInterceptor : Interceptor
{
    public const string CallerKey = "faceindex.caller";
    private const string ServicePrefix = "/faceindex.v1.FaceIndex/";

    private readonly bool _enabled;
    private readonly (byte[] Digest, Caller Caller)[] _keys;

    public ApiKeyInterceptor(IOptions<AuthOptions> options)
    {
        var auth = options.Value;
        _enabled = auth.Enabled;
        _keys = [.. auth.Keys.Select(k => (Digest(k.Key), new Caller(k.Name.Length > 0 ? k.Name : "key", k.Collections, k.ReadOnly)))];
    }

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        Authenticate(context);
        return continuation(request, context);
    }

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Authenticate(context);
        return continuation(requestStream, context);
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Authenticate(context);
        return continuation(request, responseStream, context);
    }

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Authenticate(context);
        return continuation(requestStream, responseStream, context);
    }

    private void Authenticate(ServerCallContext context)
    {
        if (!_enabled || !context.Method.StartsWith(ServicePrefix, StringComparison.Ordinal))
        {
            return;
        }

        var key = context.RequestHeaders.GetValue("x-api-key");
        if (key is null && context.RequestHeaders.GetValue("authorization") is { } authorization
            && authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            key = authorization["Bearer ".Length..].Trim();
        }

        if (string.IsNullOrEmpty(key))
        {
            throw Errors.Rpc(StatusCode.Unauthenticated, "UNAUTHENTICATED", "This server requires an API key: send it in the x-api-key header.");
        }

        var digest = Digest(key);
        foreach (var (expected, caller) in _keys)
        {
            if (CryptographicOperations.FixedTimeEquals(digest, expected))
            {
                context.UserState[CallerKey] = caller;
                return;
            }
        }

        throw Errors.Rpc(StatusCode.Unauthenticated, "UNAUTHENTICATED", "The API key is not valid.");
    }

    /// <summary>For plain HTTP routes (the console's metrics): null when the request may proceed, else why not.</summary>
    public string? Refusal(Microsoft.AspNetCore.Http.HttpContext http)
    {
        if (!_enabled)
        {
            return null;
        }

        string? key = http.Request.Headers["x-api-key"];
        if (string.IsNullOrEmpty(key) && http.Request.Headers.Authorization.ToString() is { } authorization
            && authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            key = authorization["Bearer ".Length..].Trim();
        }

        if (string.IsNullOrEmpty(key))
        {
            return "This server requires an API key: send it in the x-api-key header.";
        }

        var digest = Digest(key);
        foreach (var (expected, _) in _keys)
        {
            if (CryptographicOperations.FixedTimeEquals(digest, expected))
            {
                return null;
            }
        }

        return "The API key is not valid.";
    }

    private static byte[] Digest(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));
}
