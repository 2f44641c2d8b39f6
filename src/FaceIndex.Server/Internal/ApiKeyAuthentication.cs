using System.Globalization;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FaceIndex.Server.Internal;

/// <summary>
/// The <c>ApiKey</c> authentication scheme: reads the key from <c>x-api-key</c> (or
/// <c>authorization: Bearer KEY</c>), compares its SHA-256 digest with the configured keys' in constant
/// time, and signs the caller in with the key's name, its collections and its access
/// (<see cref="ApiKeyClaims"/>); what a caller may do with a collection is decided by the authorization
/// policies of <see cref="CollectionAccess"/>. A request without a key is anonymous (health, reflection
/// and the console's files need none); an endpoint that requires a caller answers a missing or unknown
/// key with Unauthenticated: a gRPC status with its <c>ErrorInfo</c> for gRPC calls, HTTP 401 with a
/// <c>google.rpc.Status</c> JSON body for REST.
/// </summary>
internal sealed class ApiKeyAuthenticationHandler : AuthenticationHandler<AuthenticationSchemeOptions>
{
    /// <summary>The scheme's name.</summary>
    public const string SchemeName = "ApiKey";

    private const string MissingKey = "This server requires an API key: send it in the x-api-key header (or authorization: Bearer KEY).";
    private const string UnknownKey = "The API key is not valid.";

    private readonly ApiKeyTable _keys;

    public ApiKeyAuthenticationHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, ApiKeyTable keys)
        : base(options, logger, encoder)
    {
        _keys = keys;
    }

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? key = Request.Headers["x-api-key"];
        if (string.IsNullOrEmpty(key)
            && Request.Headers.Authorization.ToString() is { } authorization
            && authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            key = authorization["Bearer ".Length..].Trim();
        }

        if (string.IsNullOrEmpty(key))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        return Task.FromResult(_keys.Find(key) is { } principal
            ? AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName))
            : AuthenticateResult.Fail(UnknownKey));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync().ConfigureAwait(false);
        await WriteRefusalAsync(Context, StatusCode.Unauthenticated, "UNAUTHENTICATED", result.Failure?.Message ?? MissingKey).ConfigureAwait(false);
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        WriteRefusalAsync(Context, StatusCode.PermissionDenied, "PERMISSION_DENIED", "This API key may not make this call.");

    /// <summary>
    /// Answers a refused request before it reaches a service: for gRPC a trailers-only response with the
    /// status, its message, the <c>google.rpc.Status</c> details and the reason trailer, as a refusal
    /// from inside the service would carry; for HTTP the status code (401, 403) and the Status as JSON.
    /// </summary>
    internal static async Task WriteRefusalAsync(HttpContext context, StatusCode code, string reason, string message)
    {
        var status = Errors.Status(code, reason, message);
        var response = context.Response;
        if (context.Request.ContentType?.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) == true)
        {
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = "application/grpc";
            response.Headers["grpc-status"] = ((int)code).ToString(CultureInfo.InvariantCulture);
            response.Headers["grpc-message"] = Uri.EscapeDataString(status.Message);
            response.Headers["grpc-status-details-bin"] = Convert.ToBase64String(status.ToByteArray());
            response.Headers[Errors.ReasonTrailer] = reason;
            return;
        }

        response.StatusCode = code == StatusCode.Unauthenticated ? StatusCodes.Status401Unauthorized : StatusCodes.Status403Forbidden;
        response.ContentType = "application/json; charset=utf-8";
        response.Headers[Errors.ReasonTrailer] = reason;
        await response.WriteAsync(Errors.Json(status), context.RequestAborted).ConfigureAwait(false);
    }
}

/// <summary>The claims that the <c>ApiKey</c> scheme gives a caller.</summary>
internal static class ApiKeyClaims
{
    /// <summary>One claim per collection the key may use; <c>*</c> for every collection.</summary>
    public const string Collection = "faceindex/collection";

    /// <summary><see cref="ReadWrite"/> or <see cref="ReadOnly"/>.</summary>
    public const string Access = "faceindex/access";

    public const string ReadWrite = "read-write";

    public const string ReadOnly = "read-only";

    public const string AnyCollection = "*";
}

/// <summary>The configured keys by digest, each with the principal it signs in.</summary>
internal sealed class ApiKeyTable
{
    private readonly (byte[] Digest, ClaimsPrincipal Principal)[] _keys;

    public ApiKeyTable(IOptions<AuthOptions> options)
    {
        _keys = [.. options.Value.Keys.Select(k => (Digest(k.Key), Principal(k)))];
    }

    /// <summary>The principal of <paramref name="key"/>, or null when no configured key matches.</summary>
    public ClaimsPrincipal? Find(string key)
    {
        var digest = Digest(key);
        ClaimsPrincipal? found = null;

        // Every key is compared, so that the time taken does not tell which one matched.
        foreach (var (expected, principal) in _keys)
        {
            if (CryptographicOperations.FixedTimeEquals(digest, expected))
            {
                found = principal;
            }
        }

        return found;
    }

    private static ClaimsPrincipal Principal(ApiKeyOptions key)
    {
        var claims = new List<Claim> { new(ClaimTypes.Name, key.Name.Length > 0 ? key.Name : "key") };
        claims.AddRange(key.Collections.Select(c => new Claim(ApiKeyClaims.Collection, c)));
        claims.Add(new Claim(ApiKeyClaims.Access, key.ReadOnly ? ApiKeyClaims.ReadOnly : ApiKeyClaims.ReadWrite));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, ApiKeyAuthenticationHandler.SchemeName));
    }

    private static byte[] Digest(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));
}
