using System.Text.Json.Nodes;
using SkiaSharp;

namespace FaceIndex.ConsoleTests;

/// <summary>
/// The REST/JSON routes (gRPC JSON transcoding) against the real server: the same behaviour, auth and errors
/// as gRPC, with the HTTP status and the machine-readable reason in the body; thumbnails; UpdatePerson;
/// results grouped by person; the OpenAPI document; the bad-input catalogue (nothing stored).
/// </summary>
public sealed class RestApiTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private Rest Client(string? key = LoopbackServer.Key) => new(fixture.Server.HttpAddress, key);

    [Fact]
    public async Task Enrol_search_and_verify_over_json_find_the_person_and_group_matches_by_person()
    {
        using var rest = Client();
        await rest.PostAsync("/v1/collections", new { name = "rest-people" });
        foreach (var file in new[] { "img1.jpg", "img2.jpg" })
        {
            var enrolled = await rest.PostAsync("/v1/collections/rest-people/persons/angelina/faces", new { image = Rest.Deepface(file) });
            Assert.Single(enrolled["faces"]!.AsArray());
        }

        await rest.PostAsync("/v1/collections/rest-people/persons/jennifer/faces", new { image = Rest.Deepface("img13.jpg") });

        var found = await rest.PostAsync("/v1/collections/rest-people:search", new { image = Rest.Deepface("img4.jpg"), topK = 5 });
        var face = found["faces"]![0]!;
        Assert.False(face["unknown"]!.GetValue<bool>());
        var persons = face["persons"]!.AsArray();
        Assert.Equal("angelina", persons[0]!["personId"]!.GetValue<string>());
        Assert.Equal(2, persons[0]!["matchedFaces"]!.GetValue<int>());
        Assert.Equal(persons.Count, persons.Select(p => p!["personId"]!.GetValue<string>()).Distinct().Count());
        Assert.Equal(2, face["matches"]!.AsArray().Count(m => m!["personId"]!.GetValue<string>() == "angelina"));

        var stranger = await rest.PostAsync("/v1/collections/rest-people:search", new { image = Rest.Stranger("AJ_Cook") });
        Assert.True(stranger["faces"]![0]!["unknown"]!.GetValue<bool>());

        var verified = await rest.PostAsync("/v1/collections/rest-people:verify", new { imageA = Rest.Deepface("img5.jpg"), personId = "angelina" });
        Assert.True(verified["same"]!.GetValue<bool>());
    }

    [Fact]
    public async Task A_thumbnail_is_kept_per_enrolled_face_and_deleted_with_it()
    {
        using var rest = Client();
        await rest.PostAsync("/v1/collections", new { name = "rest-thumbs" });
        var enrolled = await rest.PostAsync("/v1/collections/rest-thumbs/persons/p-16-17/faces", new { image = Rest.Deepface("img16.jpg") });
        var faceId = enrolled["faces"]![0]!["faceId"]!.ToString();

        var thumbnail = await rest.GetAsync($"/v1/collections/rest-thumbs/faces/{faceId}/thumbnail");
        Assert.Equal("image/jpeg", thumbnail["contentType"]!.GetValue<string>());
        using (var bitmap = SKBitmap.Decode(Convert.FromBase64String(thumbnail["data"]!.GetValue<string>())))
        {
            Assert.Equal(112, bitmap.Width);
            Assert.Equal(112, bitmap.Height);
        }

        // Another collection does not see it.
        var (elsewhere, _) = await rest.SendAsync(HttpMethod.Get, $"/v1/collections/default/faces/{faceId}/thumbnail");
        Assert.Equal(404, elsewhere);

        await rest.OkAsync(HttpMethod.Delete, $"/v1/collections/rest-thumbs/faces/{faceId}");
        var (gone, error) = await rest.SendAsync(HttpMethod.Get, $"/v1/collections/rest-thumbs/faces/{faceId}/thumbnail");
        Assert.Equal(404, gone);
        Assert.Equal("NOT_FOUND", Rest.Reason(error));
    }

    [Fact]
    public async Task UpdatePerson_merges_replaces_and_removes_metadata()
    {
        using var rest = Client();
        await rest.PostAsync("/v1/collections", new { name = "rest-update" });
        await rest.PostAsync("/v1/collections/rest-update/persons/p-8-9/faces", new { image = Rest.Deepface("img8.jpg") });

        var merged = await rest.OkAsync(HttpMethod.Patch, "/v1/collections/rest-update/persons/p-8-9", new { metadata = new { team = "blue", desk = "4" } });
        Assert.Equal("blue", merged["metadata"]!["team"]!.GetValue<string>());
        var removed = await rest.OkAsync(HttpMethod.Patch, "/v1/collections/rest-update/persons/p-8-9", new { removeMetadataKeys = new[] { "desk" }, metadata = new { team = "red" } });
        Assert.Equal("red", removed["metadata"]!["team"]!.GetValue<string>());
        Assert.Null(removed["metadata"]!["desk"]);
        var replaced = await rest.OkAsync(HttpMethod.Patch, "/v1/collections/rest-update/persons/p-8-9", new { metadata = new { name = "P" }, replaceMetadata = true });
        Assert.Equal(["name"], replaced["metadata"]!.AsObject().Select(p => p.Key));
        Assert.Single(replaced["faces"]!.AsArray());

        var (missing, error) = await rest.SendAsync(HttpMethod.Patch, "/v1/collections/rest-update/persons/nobody", new { metadata = new { a = "b" } });
        Assert.Equal(404, missing);
        Assert.Equal("NOT_FOUND", Rest.Reason(error));
    }

    [Fact]
    public async Task A_person_is_renamed_faces_are_assigned_to_another_and_search_answers_with_the_new_names()
    {
        using var rest = Client();
        await rest.PostAsync("/v1/collections", new { name = "rest-rename" });
        await rest.PostAsync("/v1/collections/rest-rename/persons/unnamed-1/faces", new { image = Rest.Deepface("img1.jpg") });
        var second = await rest.PostAsync("/v1/collections/rest-rename/persons/unnamed-2/faces", new { image = Rest.Deepface("img2.jpg") });
        ulong secondFace = ulong.Parse(second["faces"]![0]!["faceId"]!.ToJsonString().Trim('"'), System.Globalization.CultureInfo.InvariantCulture);

        // Rename, with metadata in the same call: the old id is gone.
        var renamed = await rest.OkAsync(HttpMethod.Patch, "/v1/collections/rest-rename/persons/unnamed-1", new { newPersonId = "angelina", metadata = new { name = "Angelina" } });
        Assert.Equal("angelina", renamed["personId"]!.GetValue<string>());
        Assert.Equal("Angelina", renamed["metadata"]!["name"]!.GetValue<string>());
        Assert.Single(renamed["faces"]!.AsArray());
        var (gone, goneError) = await rest.SendAsync(HttpMethod.Get, "/v1/collections/rest-rename/persons/unnamed-1");
        Assert.Equal(404, gone);
        Assert.Equal("NOT_FOUND", Rest.Reason(goneError));

        // The other face (a cluster, say) is named as that person.
        var assigned = await rest.PostAsync("/v1/collections/rest-rename/persons/angelina:assignFaces", new { faceIds = new[] { secondFace } });
        Assert.Equal(2, assigned["faces"]!.AsArray().Count);

        var found = await rest.PostAsync("/v1/collections/rest-rename:search", new { image = Rest.Deepface("img4.jpg"), topK = 5 });
        var persons = found["faces"]![0]!["persons"]!.AsArray();
        Assert.Equal("angelina", persons[0]!["personId"]!.GetValue<string>());
        Assert.Equal(2, persons[0]!["matchedFaces"]!.GetValue<int>());

        // Renaming onto a person that exists is refused; assigning a face that does not exist too; nothing changes.
        await rest.PostAsync("/v1/collections/rest-rename/persons/jennifer/faces", new { image = Rest.Deepface("img13.jpg") });
        var (conflict, conflictError) = await rest.SendAsync(HttpMethod.Patch, "/v1/collections/rest-rename/persons/jennifer", new { newPersonId = "angelina" });
        Assert.Equal(409, conflict);
        Assert.Equal("ALREADY_EXISTS", Rest.Reason(conflictError));
        var (missing, missingError) = await rest.SendAsync(HttpMethod.Post, "/v1/collections/rest-rename/persons/jennifer:assignFaces", new { faceIds = new[] { secondFace, 987_654_321UL } });
        Assert.Equal(404, missing);
        Assert.Equal("NOT_FOUND", Rest.Reason(missingError));
        Assert.Equal(2, (await rest.GetAsync("/v1/collections/rest-rename/persons/angelina"))["faces"]!.AsArray().Count);
    }

    [Fact]
    public async Task A_collection_is_migrated_to_the_fast_model_and_searched_with_it_without_its_images()
    {
        using var rest = Client();
        await rest.PostAsync("/v1/collections", new { name = "rest-old" });
        foreach (var (person, files) in new[] { ("angelina", new[] { "img1.jpg", "img2.jpg" }), ("jennifer", ["img13.jpg"]), ("p-16-17", ["img16.jpg"]), ("p-24-25", ["img24.jpg"]) })
        {
            foreach (var file in files)
            {
                await rest.PostAsync($"/v1/collections/rest-old/persons/{person}/faces", new { image = Rest.Deepface(file) });
            }
        }

        await rest.OkAsync(HttpMethod.Patch, "/v1/collections/rest-old/persons/jennifer", new { metadata = new { name = "Jennifer" } });

        var started = await rest.PostAsync("/v1/collections/rest-old:migrate", new { model = "dlib128-v1" });
        Assert.Equal("migration", started["kind"]!.GetValue<string>());
        Assert.Equal("rest-old-dlib128-v1", started["targetCollection"]!.GetValue<string>());
        var done = await WaitForOperationAsync(rest, started["id"]!.GetValue<string>());
        Assert.Equal("OPERATION_STATE_SUCCEEDED", done["state"]!.GetValue<string>());
        Assert.Equal("5", done["migratedFaces"]!.ToJsonString().Trim('"'));
        Assert.Equal(1.0, done["progress"]!.GetValue<double>());

        // The new collection holds every person and face under the new model; the old one is as it was.
        var collections = (await rest.GetAsync("/v1/collections"))["collections"]!.AsArray();
        var migrated = collections.Single(c => c!["name"]!.GetValue<string>() == "rest-old-dlib128-v1")!;
        Assert.Equal("dlib128-v1", migrated["modelVersion"]!.GetValue<string>());
        Assert.Equal("5", migrated["faceCount"]!.ToJsonString().Trim('"'));
        var old = collections.Single(c => c!["name"]!.GetValue<string>() == "rest-old")!;
        Assert.Equal("fr512-pca128-v1", old["modelVersion"]!.GetValue<string>());
        var jennifer = await rest.GetAsync("/v1/collections/rest-old-dlib128-v1/persons/jennifer");
        Assert.Equal("Jennifer", jennifer["metadata"]!["name"]!.GetValue<string>());
        Assert.Equal("dlib128-v1", jennifer["faces"]![0]!["modelVersion"]!.GetValue<string>());

        // Probes embedded by the new model find the migrated faces of the old one.
        foreach (var (probe, person) in new[] { ("img4.jpg", "angelina"), ("img17.jpg", "p-16-17"), ("img25.jpg", "p-24-25"), ("img14.jpg", "jennifer") })
        {
            var found = await rest.PostAsync("/v1/collections/rest-old-dlib128-v1:search", new { image = Rest.Deepface(probe), topK = 3, threshold = 4 });
            Assert.Equal(person, found["faces"]![0]!["persons"]![0]!["personId"]!.GetValue<string>());
        }

        // Its default thresholds are the ones measured for a mapped code against a new one (models.json, "migrations").
        var byDefault = await rest.PostAsync("/v1/collections/rest-old-dlib128-v1:search", new { image = Rest.Stranger("AJ_Cook") });
        Assert.Equal(0.135, byDefault["threshold"]!.GetValue<double>(), 3);
        Assert.True(byDefault["faces"]![0]!["unknown"]!.GetValue<bool>());
        var verified = await rest.PostAsync("/v1/collections/rest-old-dlib128-v1:verify", new { imageA = Rest.Deepface("img17.jpg"), personId = "p-16-17" });
        Assert.Equal(0.199, verified["threshold"]!.GetValue<double>(), 3);
        var plain = await rest.PostAsync("/v1/collections/rest-old:search", new { image = Rest.Stranger("AJ_Cook") });
        Assert.NotEqual(0.135, plain["threshold"]!.GetValue<double>(), 3);

        // What a user can get wrong: the same model, a model without a map from this one's, a target that exists, no source.
        var (same, sameError) = await rest.SendAsync(HttpMethod.Post, "/v1/collections/rest-old:migrate", new { model = "fr512-pca128-v1" });
        Assert.Equal(400, same);
        Assert.Contains("already", sameError["message"]!.GetValue<string>(), StringComparison.Ordinal);
        var (exists, existsError) = await rest.SendAsync(HttpMethod.Post, "/v1/collections/rest-old:migrate", new { model = "dlib128-v1" });
        Assert.Equal(409, exists);
        Assert.Equal("ALREADY_EXISTS", Rest.Reason(existsError));
        var (noModel, noModelError) = await rest.SendAsync(HttpMethod.Post, "/v1/collections/rest-old:migrate", new { model = "" });
        Assert.Equal(400, noModel);
        Assert.Contains("dlib128-v1", noModelError["message"]!.GetValue<string>(), StringComparison.Ordinal);
        var (missing, _) = await rest.SendAsync(HttpMethod.Post, "/v1/collections/rest-nothing:migrate", new { model = "dlib128-v1" });
        Assert.Equal(404, missing);
    }

    private static async Task<JsonNode> WaitForOperationAsync(Rest rest, string id)
    {
        for (int i = 0; i < 600; i++)
        {
            var operation = await rest.GetAsync($"/v1/operations/{id}");
            if (operation["state"]!.GetValue<string>() is not ("OPERATION_STATE_PENDING" or "OPERATION_STATE_RUNNING"))
            {
                return operation;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"Operation {id} did not end in 60 s.");
    }

    [Fact]
    public async Task Enrol_by_face_position_stores_only_the_chosen_face()
    {
        using var rest = Client();
        await rest.PostAsync("/v1/collections", new { name = "rest-choose" });
        var couple = Rest.Deepface("couple.jpg");
        var seen = await rest.PostAsync("/v1/collections/rest-choose:search", new { image = couple });
        int faces = seen["faces"]!.AsArray().Count;
        Assert.True(faces >= 2, $"couple.jpg should show two faces; {faces} found");

        var enrolled = await rest.PostAsync("/v1/collections/rest-choose/persons/second/faces", new { image = couple, faceIndices = new[] { 1 } });
        var box = enrolled["faces"]![0]!["box"]!;
        Assert.Equal(seen["faces"]![1]!["box"]!["x"]!.GetValue<float>(), box["x"]!.GetValue<float>(), 0.01f);
        Assert.Equal(faces - 1, enrolled["facesIgnored"]!.GetValue<int>());

        var (bad, error) = await rest.SendAsync(HttpMethod.Post, "/v1/collections/rest-choose/persons/third/faces", new { image = couple, faceIndices = new[] { 7 } });
        Assert.Equal(400, bad);
        Assert.Equal("INVALID_ARGUMENT", Rest.Reason(error));
        Assert.Contains("face_indices", error["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    public static TheoryData<string, string, int, string> BadInputs => new()
    {
        { "not an image", Convert.ToBase64String("hello, this is text"u8.ToArray()), 400, "IMAGE_UNREADABLE" },
        { "truncated JPEG", HalfOf("img1.jpg"), 400, "IMAGE_TRUNCATED" },
        { "empty image", "", 400, "IMAGE_UNREADABLE" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public async Task Bad_uploads_get_a_clear_status_and_reason_and_store_nothing(string what, string image, int status, string reason)
    {
        using var rest = Client();
        var collection = "rest-bad-" + Guid.NewGuid().ToString("N")[..8];
        await rest.PostAsync("/v1/collections", new { name = collection });
        var (code, error) = await rest.SendAsync(HttpMethod.Post, $"/v1/collections/{collection}/persons/x/faces", new { image });
        Assert.True(code == status, $"{what}: {code} {error.ToJsonString()}");
        Assert.Equal(reason, Rest.Reason(error));
        Assert.False(string.IsNullOrWhiteSpace(error["message"]?.GetValue<string>()));
        await AssertEmptyAsync(rest, collection);
    }

    [Fact]
    public async Task A_huge_upload_is_refused_and_stores_nothing()
    {
        using var rest = Client();
        await rest.PostAsync("/v1/collections", new { name = "rest-huge" });
        var huge = Convert.ToBase64String(new byte[3 << 20]);
        var (code, error) = await rest.SendAsync(HttpMethod.Post, "/v1/collections/rest-huge/persons/x/faces", new { image = huge });
        Assert.True(code is 413 or 429 or 400, $"{code} {error.ToJsonString()}");
        Assert.False(string.IsNullOrWhiteSpace(error["message"]?.GetValue<string>()));
        await AssertEmptyAsync(rest, "rest-huge");
    }

    [Fact]
    public async Task A_wrong_or_missing_key_is_401_a_read_only_key_is_403_and_an_unknown_collection_is_404()
    {
        using (var none = Client(key: null))
        {
            var (code, error) = await none.SendAsync(HttpMethod.Get, "/v1/collections");
            Assert.Equal(401, code);
            Assert.Equal("UNAUTHENTICATED", Rest.Reason(error));
        }

        using (var wrong = Client("not-the-key-at-all-0000"))
        {
            var (code, error) = await wrong.SendAsync(HttpMethod.Post, "/v1/collections/default/persons/x/faces", new { image = Rest.Deepface("img8.jpg") });
            Assert.Equal(401, code);
            Assert.Equal("The API key is not valid.", error["message"]!.GetValue<string>());
            var (metrics, _) = await wrong.SendAsync(HttpMethod.Get, "/console/metrics");
            Assert.Equal(401, metrics);
        }

        using (var reader = Client(LoopbackServer.ReaderKey))
        {
            var (code, error) = await reader.SendAsync(HttpMethod.Post, "/v1/collections/default/persons/x/faces", new { image = Rest.Deepface("img8.jpg") });
            Assert.Equal(403, code);
            Assert.Equal("PERMISSION_DENIED", Rest.Reason(error));
        }

        using var rest = Client();
        var (missing, notFound) = await rest.SendAsync(HttpMethod.Post, "/v1/collections/no-such-collection:search", new { image = Rest.Deepface("img8.jpg") });
        Assert.Equal(404, missing);
        Assert.Equal("NOT_FOUND", Rest.Reason(notFound));
        Assert.Contains("no-such-collection", notFound["message"]!.GetValue<string>(), StringComparison.Ordinal);
        var persons = await rest.GetAsync("/v1/collections/default/persons");
        Assert.DoesNotContain(persons["persons"]?.AsArray() ?? [], p => p!["personId"]!.GetValue<string>() == "x");
    }

    [Fact]
    public async Task The_openapi_document_lists_the_routes_and_the_console_is_served_from_the_assembly()
    {
        using var rest = Client(key: null);
        var document = await rest.GetAsync("/openapi/v1.json");
        var paths = document["paths"]!.AsObject().Select(p => p.Key).ToList();
        Assert.Contains("/v1/collections", paths);
        Assert.Contains("/v1/collections/{collection}:search", paths);
        Assert.Contains("/v1/collections/{collection}/faces/{faceId}/thumbnail", paths);
        Assert.Contains("/v1/collections/{collection}/persons/{personId}", paths);

        using var http = new HttpClient { BaseAddress = new Uri(fixture.Server.HttpAddress) };
        var page = await http.GetStringAsync("/console/");
        Assert.Contains("<script type=\"module\" src=\"/console/js/app.js\">", page, StringComparison.Ordinal);
        using var script = await http.GetAsync("/console/js/views/search.js");
        Assert.Equal("text/javascript", script.Content.Headers.ContentType!.MediaType);
        using var missing = await http.GetAsync("/console/js/nothing.js");
        Assert.Equal(System.Net.HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task An_enrol_and_a_search_leave_spans_for_each_stage_and_per_collection_metrics()
    {
        var spans = new System.Collections.Concurrent.ConcurrentQueue<System.Diagnostics.Activity>();
        using var listener = new System.Diagnostics.ActivityListener
        {
            ShouldListenTo = source => source.Name.StartsWith("FaceIndex.", StringComparison.Ordinal),
            Sample = (ref System.Diagnostics.ActivityCreationOptions<System.Diagnostics.ActivityContext> _) => System.Diagnostics.ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        System.Diagnostics.ActivitySource.AddActivityListener(listener);

        using var rest = Client();
        await rest.PostAsync("/v1/collections", new { name = "rest-telemetry" });
        await rest.PostAsync("/v1/collections/rest-telemetry/persons/p-20-21/faces", new { image = Rest.Deepface("img20.jpg") });
        await rest.PostAsync("/v1/collections/rest-telemetry:search", new { image = Rest.Deepface("img21.jpg") });

        var names = spans.Select(s => s.OperationName).ToHashSet();
        foreach (var stage in new[] { "vision.decode", "vision.detect", "vision.align", "vision.embed", "store.commit", "index.search" })
        {
            Assert.Contains(stage, names);
        }

        Assert.Contains(spans, s => s.OperationName == "index.search" && (string?)s.GetTagItem("faceindex.collection") == "rest-telemetry");

        var (status, _) = await rest.SendAsync(HttpMethod.Get, "/v1/stats");
        Assert.Equal(200, status);
        using var http = new HttpClient { BaseAddress = new Uri(fixture.Server.HttpAddress) };
        http.DefaultRequestHeaders.Add("x-api-key", LoopbackServer.Key);
        var text = await http.GetStringAsync("/console/metrics");
        var lines = text.Split('\n');
        Assert.Contains(lines, l => l.StartsWith("faceindex_index_search_duration", StringComparison.Ordinal) && l.Contains("collection=\"rest-telemetry\"", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("faceindex_collection_faces_enrolled_total", StringComparison.Ordinal) && l.Contains("collection=\"rest-telemetry\"", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("faceindex_vision_stage_duration", StringComparison.Ordinal) && l.Contains("stage=\"embed\"", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("faceindex_store_commit_duration", StringComparison.Ordinal));
    }

    private static string HalfOf(string file)
    {
        var bytes = File.ReadAllBytes(Testing.TestPaths.Faces("deepface", file));
        return Convert.ToBase64String(bytes.AsSpan(0, bytes.Length / 2));
    }

    private static async Task AssertEmptyAsync(Rest rest, string collection)
    {
        var listed = await rest.GetAsync("/v1/collections");
        var record = listed["collections"]!.AsArray().Single(c => c!["name"]!.GetValue<string>() == collection)!;
        Assert.Equal("0", record["faceCount"]?.ToString() ?? "0");
        var persons = await rest.GetAsync($"/v1/collections/{collection}/persons");
        Assert.Empty(persons["persons"]?.AsArray() ?? new JsonArray());
    }
}
