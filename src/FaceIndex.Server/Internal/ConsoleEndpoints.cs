using System.Collections.Frozen;
using System.Reflection;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Prometheus;

namespace FaceIndex.Server.Internal;

/// <summary>
/// The web console at <c>/console/</c>: plain ES modules, CSS and HTML embedded in this assembly (nothing is
/// fetched from elsewhere at run time), served with ETags; and <c>/console/metrics</c>, the server's own
/// Prometheus text that the dashboard plots, behind the same API key as the API.
/// </summary>
internal static class ConsoleEndpoints
{
    private const string ResourcePrefix = "FaceIndex.Console/";

    private static readonly FrozenDictionary<string, string> s_contentTypes = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        [".html"] = "text/html; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".svg"] = "image/svg+xml",
        [".png"] = "image/png",
    }.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);

    private static readonly Lazy<FrozenDictionary<string, Asset>> s_assets = new(LoadAssets);

    /// <summary>Maps the console's routes on the application; returns the metrics route, for the caller to protect.</summary>
    public static IEndpointConventionBuilder MapConsole(this IEndpointRouteBuilder app, CollectorRegistry metrics)
    {
        app.MapGet("/", () => Results.Redirect("/console/"));
        var metricsRoute = app.MapGet("/console/metrics", async context =>
        {
            context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
            await metrics.CollectAndExportAsTextAsync(context.Response.Body, context.RequestAborted).ConfigureAwait(false);
        });
        app.MapGet("/console/{**path}", (HttpContext context, string? path) =>
            string.IsNullOrEmpty(path) && context.Request.Path.Value?.EndsWith('/') != true
                ? Results.Redirect("/console/")
                : Serve(context, string.IsNullOrEmpty(path) ? "index.html" : path));
        return metricsRoute;
    }

    private static IResult Serve(HttpContext context, string path)
    {
        if (!s_assets.Value.TryGetValue(path, out var asset))
        {
            return Results.NotFound();
        }

        context.Response.Headers.CacheControl = "no-cache";
        context.Response.Headers.XContentTypeOptions = "nosniff";
        context.Response.Headers.ContentSecurityPolicy = "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; connect-src 'self'";
        if (context.Request.Headers.IfNoneMatch == asset.ETag)
        {
            return Results.StatusCode(StatusCodes.Status304NotModified);
        }

        context.Response.Headers.ETag = asset.ETag;
        return Results.Bytes(asset.Content, asset.ContentType);
    }

    private static FrozenDictionary<string, Asset> LoadAssets()
    {
        var assembly = typeof(ConsoleEndpoints).Assembly;
        var assets = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames())
        {
            if (!name.StartsWith(ResourcePrefix, StringComparison.Ordinal))
            {
                continue;
            }

            var path = name[ResourcePrefix.Length..].Replace('\\', '/');
            assets[path] = Read(assembly, name, path);
        }

        return assets.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static Asset Read(Assembly assembly, string name, string path)
    {
        using var stream = assembly.GetManifestResourceStream(name) ?? throw new InvalidOperationException($"Console asset {name} is missing from the assembly.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        var content = copy.ToArray();
        var type = s_contentTypes.TryGetValue(Path.GetExtension(path), out var t) ? t : "application/octet-stream";
        return new Asset(content, type, $"\"{Convert.ToHexStringLower(SHA256.HashData(content).AsSpan(0, 8))}\"");
    }

    private sealed record Asset(byte[] Content, string ContentType, string ETag);
}
