using System.Security.Claims;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;

namespace FaceIndex.Server.Internal;

/// <summary>
/// Authorization of FaceIndex calls. The endpoint policy <see cref="Caller"/> (applied to the API's
/// gRPC and REST endpoints when <see cref="AuthOptions.Enabled"/>) requires a caller signed in by the
/// <c>ApiKey</c> scheme; the resource policies <see cref="Read"/> and <see cref="Write"/> decide per
/// collection (a <see cref="CollectionScope"/>) from the caller's claims. With authentication off,
/// everyone may do everything.
/// </summary>
internal static class CollectionAccess
{
    /// <summary>Endpoint policy: a caller with a valid API key.</summary>
    public const string Caller = "faceindex.caller";

    /// <summary>Resource policy: may read (search, verify, list, stats) the collection.</summary>
    public const string Read = "faceindex.read";

    /// <summary>Resource policy: may change (enrol, delete, create) the collection.</summary>
    public const string Write = "faceindex.write";

    /// <summary>Adds the policies and their handler.</summary>
    public static void AddPolicies(AuthorizationOptions options)
    {
        options.AddPolicy(Caller, policy => policy.AddAuthenticationSchemes(ApiKeyAuthenticationHandler.SchemeName).RequireAuthenticatedUser());
        options.AddPolicy(Read, policy => policy.AddRequirements(new CollectionRequirement(write: false)));
        options.AddPolicy(Write, policy => policy.AddRequirements(new CollectionRequirement(write: true)));
    }

    /// <summary>Throws PermissionDenied, with the reason the handler gave, unless <paramref name="user"/> may use the collection.</summary>
    public static async Task DemandAsync(this IAuthorizationService authorization, ClaimsPrincipal user, CollectionScope scope, bool write)
    {
        var result = await authorization.AuthorizeAsync(user, scope, write ? Write : Read).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            var reason = result.Failure?.FailureReasons.FirstOrDefault()?.Message ?? "This API key may not make this call.";
            throw Errors.Rpc(StatusCode.PermissionDenied, "PERMISSION_DENIED", reason);
        }
    }

    /// <summary>True when <paramref name="user"/> may read <paramref name="collection"/> (to filter lists).</summary>
    public static async Task<bool> MayReadAsync(this IAuthorizationService authorization, ClaimsPrincipal user, string collection) =>
        (await authorization.AuthorizeAsync(user, new CollectionScope(collection), Read).ConfigureAwait(false)).Succeeded;
}

/// <summary>The collection a call uses; a null name stands for "some collection" (a stream whose items name theirs).</summary>
internal sealed record CollectionScope(string? Name);

/// <summary>The requirement of <see cref="CollectionAccess.Read"/> and <see cref="CollectionAccess.Write"/>.</summary>
internal sealed class CollectionRequirement(bool write) : IAuthorizationRequirement
{
    public bool Write { get; } = write;
}

/// <summary>Decides <see cref="CollectionRequirement"/> from the <see cref="ApiKeyClaims"/> of the caller.</summary>
internal sealed class CollectionAccessHandler(IOptions<AuthOptions> options) : AuthorizationHandler<CollectionRequirement, CollectionScope>
{
    private readonly bool _enabled = options.Value.Enabled;

    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, CollectionRequirement requirement, CollectionScope resource)
    {
        if (!_enabled)
        {
            context.Succeed(requirement);
            return Task.CompletedTask;
        }

        var user = context.User;
        if (user.Identity?.IsAuthenticated != true)
        {
            context.Fail(new AuthorizationFailureReason(this, "This server requires an API key: send it in the x-api-key header."));
            return Task.CompletedTask;
        }

        if (resource.Name is { } name && !user.HasClaim(c => c.Type == ApiKeyClaims.Collection && (c.Value == ApiKeyClaims.AnyCollection || c.Value == name)))
        {
            context.Fail(new AuthorizationFailureReason(this, $"This API key may not use collection '{name}'."));
            return Task.CompletedTask;
        }

        if (requirement.Write && !user.HasClaim(ApiKeyClaims.Access, ApiKeyClaims.ReadWrite))
        {
            context.Fail(new AuthorizationFailureReason(this, "This API key is read-only: it may not enrol or delete."));
            return Task.CompletedTask;
        }

        context.Succeed(requirement);
        return Task.CompletedTask;
    }
}
