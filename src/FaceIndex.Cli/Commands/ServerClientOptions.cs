using System.CommandLine;
using Grpc.Core;
using Grpc.Net.Client;
using Spectre.Console;

namespace FaceIndex.Cli.Commands;

/// <summary>The options of the verbs that talk to a running server (--server, --api-key, --collection), and their error handling.</summary>
internal sealed class ServerClientOptions
{
    private readonly Option<string> _server = new("--server")
    {
        Description = "Address of the FaceIndex server (default: $FACEINDEX_SERVER or http://127.0.0.1:50051)",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("FACEINDEX_SERVER") is { Length: > 0 } url ? url : "http://127.0.0.1:50051",
    };

    private readonly Option<string?> _apiKey = new("--api-key")
    {
        Description = "API key, when the server requires one (default: $FACEINDEX_API_KEY)",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("FACEINDEX_API_KEY"),
    };

    private readonly Option<string> _collection = new("--collection", "-c")
    {
        Description = "Collection to use",
        DefaultValueFactory = _ => "default",
    };

    /// <summary>Adds the options to a command.</summary>
    public void AddTo(Command command)
    {
        command.Add(_server);
        command.Add(_apiKey);
        command.Add(_collection);
    }

    public string Collection(ParseResult parse) => parse.GetValue(_collection)!;

    /// <summary>The collection when --collection was given, null otherwise (verbs that default to every collection).</summary>
    public string? GivenCollection(ParseResult parse) => parse.GetResult(_collection) is { Implicit: false } ? parse.GetValue(_collection) : null;

    public string ServerAddress(ParseResult parse) => parse.GetValue(_server)!;

    /// <summary>A channel to the server, sending the API key (if any) with every call.</summary>
    public GrpcChannel Connect(ParseResult parse)
    {
        var address = ServerAddress(parse);
        if (!Uri.TryCreate(address, UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https"))
        {
            throw new ArgumentException($"--server must be an http:// or https:// address; got '{address}'.");
        }

        var key = parse.GetValue(_apiKey);
        var options = new GrpcChannelOptions { MaxSendMessageSize = 64 << 20, MaxReceiveMessageSize = 64 << 20 };
        if (!string.IsNullOrEmpty(key))
        {
            var credentials = CallCredentials.FromInterceptor((_, metadata) =>
            {
                metadata.Add("x-api-key", key);
                return Task.CompletedTask;
            });
            options.Credentials = ChannelCredentials.Create(uri.Scheme == "https" ? ChannelCredentials.SecureSsl : ChannelCredentials.Insecure, credentials);
            options.UnsafeUseInsecureChannelCallCredentials = uri.Scheme == "http";
        }

        return GrpcChannel.ForAddress(uri, options);
    }

    /// <summary>Runs a client verb: a refused call or an unreachable server prints one line and returns 2; other errors as <see cref="CliErrors"/>.</summary>
    public static Task<int> RunAsync(IAnsiConsole console, Func<Task<int>> verb) => CliErrors.RunAsync(console, async () =>
    {
        try
        {
            return await verb().ConfigureAwait(false);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.Unavailable)
        {
            console.MarkupLineInterpolated($"[red]error:[/] the server is not reachable or not ready ({ex.Status.Detail}).");
            return CliErrors.ExitError;
        }
        catch (RpcException ex)
        {
            console.MarkupLineInterpolated($"[red]error ({ex.StatusCode}):[/] {ex.Status.Detail}");
            return CliErrors.ExitError;
        }
    });
}
