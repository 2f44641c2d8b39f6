using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using FaceIndex.Testing;

namespace FaceIndex.ConsoleTests;

/// <summary>A REST/JSON client of the test server, as curl would call it.</summary>
internal sealed class Rest(string baseAddress, string? key, HttpMessageHandler? handler = null) : IDisposable
{
    private readonly HttpClient _http = CreateClient(baseAddress, key, handler);

    public static string Image(string set, string file) => Convert.ToBase64String(File.ReadAllBytes(TestPaths.Faces(set, file)));

    public static string Deepface(string file) => Image("deepface", file);

    public static string Stranger(string name, int number = 1) => Image(Path.Combine("lfw-disjoint", name), $"{name}_{number:D4}.jpg");

    public async Task<(int Status, JsonNode Body)> SendAsync(HttpMethod method, string path, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        using var response = await _http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length == 0 ? new JsonObject() : JsonNode.Parse(text)!);
    }

    /// <summary>Sends and requires a 2xx reply.</summary>
    public async Task<JsonNode> OkAsync(HttpMethod method, string path, object? body = null)
    {
        var (status, reply) = await SendAsync(method, path, body);
        Assert.True(status is >= 200 and < 300, $"{method} {path}: {status} {reply.ToJsonString()}");
        return reply;
    }

    public Task<JsonNode> GetAsync(string path) => OkAsync(HttpMethod.Get, path);

    public Task<JsonNode> PostAsync(string path, object body) => OkAsync(HttpMethod.Post, path, body);

    /// <summary>The machine-readable reason of an error body (google.rpc.Status with an ErrorInfo detail).</summary>
    public static string? Reason(JsonNode error) =>
        error["details"]?.AsArray().Select(d => d?["reason"]?.GetValue<string>()).FirstOrDefault(r => r is not null);

    public void Dispose() => _http.Dispose();

    private static HttpClient CreateClient(string baseAddress, string? key, HttpMessageHandler? handler)
    {
        var http = handler is null ? new HttpClient() : new HttpClient(handler);
        http.BaseAddress = new Uri(baseAddress);
        http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (key is not null)
        {
            http.DefaultRequestHeaders.Add("x-api-key", key);
        }

        return http;
    }

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
}
