using FaceIndex.Protocol.V1;
using FaceIndex.Testing;
using Google.Protobuf;
using Grpc.Core;
using Xunit.Abstractions;

namespace FaceIndex.IntegrationTests;

/// <summary>
/// The hostile-input catalogue: whatever a client sends, the server answers with the exact status,
/// reason and a message that says what is wrong, and goes on serving. Each case is followed by a
/// search of a real face that must still find its person.
/// </summary>
public sealed class HostileInputTests(GalleryFixture gallery, ITestOutputHelper output) : IClassFixture<GalleryFixture>
{
    private static readonly Lazy<(byte[] Rgba, int Width, int Height)> s_face = new(() => HostileImages.Pixels(Deepface.Image("img1.jpg")));

    /// <summary>Image → expected status, reason and a fragment of the message; status OK means one face is enrolled.</summary>
    public static TheoryData<string, StatusCode, string, string> Images => new()
    {
        { "empty", StatusCode.InvalidArgument, "IMAGE_UNREADABLE", "empty (0 bytes)" },
        { "random-4KiB", StatusCode.InvalidArgument, "IMAGE_UNREADABLE", "not an image in a supported format" },
        { "random-1MiB", StatusCode.InvalidArgument, "IMAGE_UNREADABLE", "not an image in a supported format" },
        { "jpeg-half", StatusCode.InvalidArgument, "IMAGE_TRUNCATED", "truncated" },
        { "jpeg-header-cut", StatusCode.InvalidArgument, "IMAGE_TRUNCATED", "truncated" },
        { "png-half", StatusCode.InvalidArgument, "IMAGE_TRUNCATED", "truncated" },
        { "png-signature-only", StatusCode.InvalidArgument, "IMAGE_TRUNCATED", "header is incomplete" },
        { "png-bomb-30000x30000", StatusCode.InvalidArgument, "IMAGE_TOO_LARGE", "30000×30000 = 900000000 pixels" },
        { "png-1bit-30000x30000", StatusCode.InvalidArgument, "IMAGE_TOO_LARGE", "30000×30000 = 900000000 pixels" },
        { "jpeg-declares-65500x65500", StatusCode.InvalidArgument, "IMAGE_TOO_LARGE", "65500×65500" },
        { "png-1bit-6000x6000-in-budget", StatusCode.InvalidArgument, "NO_FACE", "No face was found" },
        { "png-1x1", StatusCode.InvalidArgument, "IMAGE_TOO_SMALL", "1×1 pixels" },
        { "png-1x30000", StatusCode.InvalidArgument, "IMAGE_TOO_SMALL", "1×30000 pixels" },
        { "gif-face-in-second-frame", StatusCode.InvalidArgument, "NO_FACE", "No face was found" },
        { "jpeg-cmyk-face", StatusCode.OK, "", "" },
        { "png-16bit-face", StatusCode.OK, "", "" },
        { "gif-animated-face-first", StatusCode.OK, "", "" },
    };

    [Theory]
    [MemberData(nameof(Images))]
    public async Task A_hostile_image_gets_its_exact_status_and_the_server_serves_on(string kind, StatusCode code, string reason, string message)
    {
        var image = ByteString.CopyFrom(Image(kind));
        var request = new EnrollRequest { Collection = "", PersonId = "hostile-" + kind, Image = image };
        if (code == StatusCode.OK)
        {
            var reply = await gallery.Client.EnrollAsync(request);
            Assert.Single(reply.Faces);

            // Decoded right, not merely decoded: the same person as the original photo.
            var verify = await gallery.Client.VerifyAsync(new VerifyRequest { ImageA = image, ImageB = Deepface.Bytes("img1.jpg") });
            Assert.True(verify.Same, $"{kind}: distance {verify.Distance} to the original");
            output.WriteLine($"{kind} ({image.Length} bytes): OK, 1 face, distance {verify.Distance:F3} to the original");
            await gallery.Client.DeletePersonAsync(new DeletePersonRequest { PersonId = request.PersonId });
        }
        else
        {
            var error = await Assert.ThrowsAsync<RpcException>(() => gallery.Client.EnrollAsync(request).ResponseAsync);
            AssertError(error, code, reason, message);
            output.WriteLine($"{kind} ({image.Length} bytes): {error.StatusCode} {reason}: {error.Status.Detail}");

            // Search answers the same for an unreadable image; an image without a face is an empty reply.
            if (reason == "NO_FACE")
            {
                Assert.Empty((await gallery.Client.SearchAsync(new SearchRequest { Image = image })).Faces);
            }
            else
            {
                AssertError(await Assert.ThrowsAsync<RpcException>(() => gallery.Client.SearchAsync(new SearchRequest { Image = image }).ResponseAsync), code, reason, message);
            }
        }

        await AssertServesAsync();
    }

    public static TheoryData<int> WrongLengths => new() { 0, 1, 127, 129, 512, 4096 };

    [Theory]
    [MemberData(nameof(WrongLengths))]
    public async Task A_vector_of_the_wrong_length_is_InvalidVector(int length)
    {
        var vector = new Protocol.V1.FaceVector { Data = ByteString.CopyFrom(new byte[length]), ModelVersion = TestPaths.ModelVersion };
        var enroll = await Assert.ThrowsAsync<RpcException>(() => gallery.Client.EnrollAsync(new EnrollRequest { PersonId = "v", Vector = vector }).ResponseAsync);
        AssertError(enroll, StatusCode.InvalidArgument, "INVALID_VECTOR", $"exactly 128 bytes; got {length}");
        var search = await Assert.ThrowsAsync<RpcException>(() => gallery.Client.SearchAsync(new SearchRequest { Vector = vector }).ResponseAsync);
        AssertError(search, StatusCode.InvalidArgument, "INVALID_VECTOR", $"exactly 128 bytes; got {length}");
        await AssertServesAsync();
    }

    public static TheoryData<float> NonFinite => new() { float.NaN, float.PositiveInfinity, float.NegativeInfinity, -0.5f, 4.5f };

    /// <summary>A code is int8 and cannot hold NaN; the float fields a client sends are the thresholds.</summary>
    [Theory]
    [MemberData(nameof(NonFinite))]
    public async Task A_threshold_that_is_NaN_infinite_or_out_of_range_is_InvalidArgument(float threshold)
    {
        var vector = new Protocol.V1.FaceVector { Data = ByteString.CopyFrom(BadInputTests.ValidVector()), ModelVersion = TestPaths.ModelVersion };
        var search = await Assert.ThrowsAsync<RpcException>(() => gallery.Client.SearchAsync(new SearchRequest { Vector = vector, Threshold = threshold }).ResponseAsync);
        AssertError(search, StatusCode.InvalidArgument, "INVALID_ARGUMENT", "threshold is a squared L2 distance in [0, 4]");
        var verify = await Assert.ThrowsAsync<RpcException>(() => gallery.Client.VerifyAsync(new VerifyRequest { ImageA = Deepface.Bytes("img1.jpg"), ImageB = Deepface.Bytes("img2.jpg"), Threshold = threshold }).ResponseAsync);
        AssertError(verify, StatusCode.InvalidArgument, "INVALID_ARGUMENT", "threshold is a squared L2 distance in [0, 4]");
        await AssertServesAsync();
    }

    [Fact]
    public async Task A_vector_that_is_not_a_quantized_unit_vector_is_InvalidVector()
    {
        var zero = new Protocol.V1.FaceVector { Data = ByteString.CopyFrom(new byte[128]), ModelVersion = TestPaths.ModelVersion };
        AssertError(await EnrollFails(new EnrollRequest { PersonId = "v", Vector = zero }), StatusCode.InvalidArgument, "INVALID_VECTOR", "squared norm is 0");
        var saturated = Enumerable.Repeat((byte)0x7F, 128).ToArray();
        AssertError(await EnrollFails(new EnrollRequest { PersonId = "v", Vector = new() { Data = ByteString.CopyFrom(saturated), ModelVersion = TestPaths.ModelVersion } }), StatusCode.InvalidArgument, "INVALID_VECTOR", "squared norm is 2064512");
        await AssertServesAsync();
    }

    [Fact]
    public async Task An_unknown_collection_is_NotFound_on_every_call_that_names_one()
    {
        const string Expected = "Collection 'no-such-gallery' does not exist";
        var vector = new Protocol.V1.FaceVector { Data = ByteString.CopyFrom(BadInputTests.ValidVector()), ModelVersion = TestPaths.ModelVersion };
        AssertError(await EnrollFails(new EnrollRequest { Collection = "no-such-gallery", PersonId = "p", Vector = vector }), StatusCode.NotFound, "NOT_FOUND", Expected);
        AssertError(await Fails(gallery.Client.SearchAsync(new SearchRequest { Collection = "no-such-gallery", Vector = vector })), StatusCode.NotFound, "NOT_FOUND", Expected);
        AssertError(await Fails(gallery.Client.GetPersonAsync(new GetPersonRequest { Collection = "no-such-gallery", PersonId = "p" })), StatusCode.NotFound, "NOT_FOUND", Expected);
        AssertError(await Fails(gallery.Client.ListPersonsAsync(new ListPersonsRequest { Collection = "no-such-gallery" })), StatusCode.NotFound, "NOT_FOUND", Expected);
        AssertError(await Fails(gallery.Client.DeleteCollectionAsync(new DeleteCollectionRequest { Name = "no-such-gallery" })), StatusCode.NotFound, "NOT_FOUND", Expected);
        await AssertServesAsync();
    }

    [Fact]
    public async Task A_message_over_the_limit_is_ResourceExhausted_on_unary_and_stream_calls()
    {
        var huge = ByteString.CopyFrom(new byte[17 << 20]);
        var unary = await Assert.ThrowsAsync<RpcException>(() => gallery.Client.EnrollAsync(new EnrollRequest { PersonId = "x", Image = huge }).ResponseAsync);
        Assert.Equal(StatusCode.ResourceExhausted, unary.StatusCode);
        Assert.Contains("exceeds the maximum", unary.Status.Detail);
        output.WriteLine($"17 MiB Enroll: {unary.StatusCode}: {unary.Status.Detail}");

        using var call = gallery.Client.EnrollStream();
        var stream = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            // The server may end the call before the client has finished writing the message.
            await call.RequestStream.WriteAsync(new EnrollRequest { PersonId = "x", Image = huge });
            await call.RequestStream.CompleteAsync();
            await call.ResponseStream.MoveNext();
        });
        Assert.Equal(StatusCode.ResourceExhausted, stream.StatusCode);
        Assert.Contains("exceeds the maximum", stream.Status.Detail);
        await AssertServesAsync();
    }

    [Fact]
    public async Task A_person_id_of_10_MB_is_refused_with_its_size_and_never_echoed()
    {
        var id = new string('p', 10 << 20);
        var vector = new Protocol.V1.FaceVector { Data = ByteString.CopyFrom(BadInputTests.ValidVector()), ModelVersion = TestPaths.ModelVersion };
        const string Expected = "person_id is 10485760 bytes of UTF-8; at most 256 are allowed";
        var calls = new (string Name, Func<Task> Call)[]
        {
            ("Enroll(vector)", () => gallery.Client.EnrollAsync(new EnrollRequest { PersonId = id, Vector = vector }).ResponseAsync),
            ("Enroll(image)", () => gallery.Client.EnrollAsync(new EnrollRequest { PersonId = id, Image = Deepface.Bytes("img1.jpg") }).ResponseAsync),
            ("GetPerson", () => gallery.Client.GetPersonAsync(new GetPersonRequest { PersonId = id }).ResponseAsync),
            ("DeletePerson", () => gallery.Client.DeletePersonAsync(new DeletePersonRequest { PersonId = id }).ResponseAsync),
            ("Verify(person)", () => gallery.Client.VerifyAsync(new VerifyRequest { ImageA = Deepface.Bytes("img1.jpg"), PersonId = id }).ResponseAsync),
        };
        foreach (var (name, call) in calls)
        {
            var error = await Assert.ThrowsAsync<RpcException>(call);
            AssertError(error, StatusCode.InvalidArgument, "INVALID_ARGUMENT", Expected);
            Assert.True(error.Status.Detail.Length < 200, $"{name}: the message is {error.Status.Detail.Length} characters");
            output.WriteLine($"{name} with a 10 MB person_id: {error.StatusCode}: {error.Status.Detail}");
        }

        var collection = await Fails(gallery.Client.SearchAsync(new SearchRequest { Collection = id, Vector = vector }));
        AssertError(collection, StatusCode.InvalidArgument, "INVALID_ARGUMENT", "collection name is 10485760 bytes of UTF-8; at most 128 are allowed");

        var model = await EnrollFails(new EnrollRequest { PersonId = "m", Vector = new() { Data = vector.Data, ModelVersion = id } });
        AssertError(model, StatusCode.InvalidArgument, "INVALID_ARGUMENT", "model_version is 10485760 bytes of UTF-8; at most 128 are allowed");

        var over = await EnrollFails(new EnrollRequest { PersonId = new string('p', 20 << 20), Vector = vector });
        Assert.Equal(StatusCode.ResourceExhausted, over.StatusCode);
        await AssertServesAsync();
    }

    public static TheoryData<string> Utf8Fields => new() { "person_id", "collection", "tag key", "tag value", "client_ref" };

    /// <summary>Strings of protobuf are UTF-8; a parser would silently turn bad bytes into U+FFFD and store another id than the one sent.</summary>
    [Theory]
    [MemberData(nameof(Utf8Fields))]
    public async Task Invalid_UTF8_in_a_string_field_is_InvalidArgument(string field)
    {
        byte[] bad = [(byte)'a', 0xC3, 0x28, 0xFF, (byte)'z'];
        var bytes = RawEnroll(field, bad);
        var error = await Assert.ThrowsAsync<RpcException>(() => RawUnary("Enroll", bytes));
        AssertError(error, StatusCode.InvalidArgument, "MALFORMED_REQUEST", "not a valid EnrollRequest message: a string field is not valid UTF-8");
        output.WriteLine($"invalid UTF-8 in {field}: {error.StatusCode}: {error.Status.Detail}");
        Assert.Null(await TryGetPersonAsync("a\uFFFD(\uFFFDz"));
        await AssertServesAsync();
    }

    [Fact]
    public async Task A_malformed_message_in_EnrollStream_ends_the_stream_after_the_results_before_it()
    {
        var method = new Method<byte[], byte[]>(MethodType.DuplexStreaming, "faceindex.v1.FaceIndex", "EnrollStream", s_raw, s_raw);
        using var call = gallery.Host.Channel.CreateCallInvoker().AsyncDuplexStreamingCall(method, null, default);
        var valid = new EnrollRequest { PersonId = "stream-ok", Vector = new() { Data = ByteString.CopyFrom(BadInputTests.ValidVector()), ModelVersion = TestPaths.ModelVersion } }.ToByteArray();
        await call.RequestStream.WriteAsync(valid);
        await call.RequestStream.WriteAsync(RawEnroll("person_id", [(byte)'a', 0xFF]));
        var results = new List<EnrollStreamResult>();
        try
        {
            await call.RequestStream.WriteAsync(valid);
            await call.RequestStream.CompleteAsync();
        }
        catch (RpcException)
        {
            // The server may have ended the call already: a write after that fails (Cancelled); the
            // call's own outcome comes from the response stream below.
        }

        var error = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            while (await call.ResponseStream.MoveNext(default))
            {
                results.Add(EnrollStreamResult.Parser.ParseFrom(call.ResponseStream.Current));
            }
        });
        AssertError(error, StatusCode.InvalidArgument, "MALFORMED_REQUEST", "Message 1 of the stream: The request is not a valid EnrollRequest message: a string field is not valid UTF-8");
        Assert.Single(Assert.Single(results).Response.Faces);
        await gallery.Client.DeletePersonAsync(new DeletePersonRequest { PersonId = "stream-ok" });
        await AssertServesAsync();
    }

    /// <summary>Request bytes → status, reason and message fragment.</summary>
    public static TheoryData<string, StatusCode, string, string> Garbage => new()
    {
        { "random", StatusCode.InvalidArgument, "MALFORMED_REQUEST", "not a valid EnrollRequest message" },
        { "truncated-varint", StatusCode.InvalidArgument, "MALFORMED_REQUEST", "not a valid EnrollRequest message" },
        { "length-past-end", StatusCode.InvalidArgument, "MALFORMED_REQUEST", "not a valid EnrollRequest message" },
        { "groups-nested-200-deep", StatusCode.InvalidArgument, "MALFORMED_REQUEST", "not a valid EnrollRequest message" },
        { "field-number-0", StatusCode.InvalidArgument, "MALFORMED_REQUEST", "not a valid EnrollRequest message" },

        // Well-formed protobuf that is not what the field should be: an unknown field to the parser,
        // so the request lacks its person_id.
        { "wrong-wire-type", StatusCode.InvalidArgument, "INVALID_ARGUMENT", "person_id must not be empty" },
        { "empty", StatusCode.InvalidArgument, "INVALID_ARGUMENT", "person_id must not be empty" },
    };

    [Theory]
    [MemberData(nameof(Garbage))]
    public async Task Bytes_that_are_not_a_request_message_are_InvalidArgument(string kind, StatusCode code, string reason, string message)
    {
        byte[] bytes = kind switch
        {
            "random" => RandomBytes(1000, 3),
            "truncated-varint" => [0x28, 0xFF, 0xFF],
            "length-past-end" => [0x12, 0x7F, (byte)'a'],
            "groups-nested-200-deep" => [.. Enumerable.Repeat<byte[]>([0x9B, 0x06], 200).SelectMany(b => b), .. Enumerable.Repeat<byte[]>([0x9C, 0x06], 200).SelectMany(b => b)],
            "field-number-0" => [0x02, 0x01, 0x00],
            "wrong-wire-type" => [0x15, 1, 2, 3, 4], // person_id (field 2) as a fixed32
            "empty" => [],
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        var error = await Assert.ThrowsAsync<RpcException>(() => RawUnary("Enroll", bytes));
        AssertError(error, code, reason, message);
        output.WriteLine($"{kind} request bytes: {error.StatusCode} {reason}: {error.Status.Detail}");
        await AssertServesAsync();
    }

    /// <summary>Regression of the crash the request fuzzer found: clustering an empty collection faulted (an error log, "the fault is in the server log").</summary>
    [Fact]
    public async Task Clustering_a_collection_whose_faces_were_all_deleted_succeeds_with_no_clusters()
    {
        await gallery.Client.CreateCollectionAsync(new CreateCollectionRequest { Name = "emptied" });
        var vector = new Protocol.V1.FaceVector { Data = ByteString.CopyFrom(BadInputTests.ValidVector()), ModelVersion = TestPaths.ModelVersion };
        await gallery.Client.EnrollAsync(new EnrollRequest { Collection = "emptied", PersonId = "gone", Vector = vector });
        await gallery.Client.DeletePersonAsync(new DeletePersonRequest { Collection = "emptied", PersonId = "gone" });

        var operation = await gallery.Client.StartClusteringAsync(new StartClusteringRequest { Collection = "emptied" });
        for (int i = 0; i < 600 && operation.State is not (OperationState.Succeeded or OperationState.Failed or OperationState.Cancelled); i++)
        {
            await Task.Delay(100);
            operation = await gallery.Client.GetOperationAsync(new GetOperationRequest { Id = operation.Id });
        }

        Assert.True(operation.State == OperationState.Succeeded, $"{operation.State}: {operation.Error}");
        Assert.Equal(0, operation.ClusterCount);
        await gallery.Client.DeleteCollectionAsync(new DeleteCollectionRequest { Name = "emptied" });
        await AssertServesAsync();
    }

    private static readonly Marshaller<byte[]> s_raw = Marshallers.Create(b => b, b => b);

    private Task<byte[]> RawUnary(string name, byte[] body)
    {
        var method = new Method<byte[], byte[]>(MethodType.Unary, "faceindex.v1.FaceIndex", name, s_raw, s_raw);
        return gallery.Host.Channel.CreateCallInvoker().AsyncUnaryCall(method, null, default, body).ResponseAsync;
    }

    /// <summary>An EnrollRequest with a valid vector whose <paramref name="field"/> holds the raw <paramref name="value"/> bytes.</summary>
    private static byte[] RawEnroll(string field, byte[] value)
    {
        using var buffer = new MemoryStream();
        var output = new CodedOutputStream(buffer);
        var raw = ByteString.CopyFrom(value);
        void Field(int number, ByteString bytes)
        {
            output.WriteTag(number, WireFormat.WireType.LengthDelimited);
            output.WriteBytes(bytes);
        }

        Field(2, field == "person_id" ? raw : ByteString.CopyFromUtf8("utf8-person"));
        if (field == "collection")
        {
            Field(1, raw);
        }

        Field(4, new Protocol.V1.FaceVector { Data = ByteString.CopyFrom(BadInputTests.ValidVector()), ModelVersion = TestPaths.ModelVersion }.ToByteString());
        if (field is "tag key" or "tag value")
        {
            // A map entry is a message of key = 1, value = 2.
            using var entry = new MemoryStream();
            var e = new CodedOutputStream(entry);
            e.WriteTag(1, WireFormat.WireType.LengthDelimited);
            e.WriteBytes(field == "tag key" ? raw : ByteString.CopyFromUtf8("k"));
            e.WriteTag(2, WireFormat.WireType.LengthDelimited);
            e.WriteBytes(field == "tag value" ? raw : ByteString.CopyFromUtf8("v"));
            e.Flush();
            Field(6, ByteString.CopyFrom(entry.ToArray()));
        }

        if (field == "client_ref")
        {
            Field(7, raw);
        }

        output.Flush();
        return buffer.ToArray();
    }

    private async Task<Person?> TryGetPersonAsync(string personId)
    {
        try
        {
            return await gallery.Client.GetPersonAsync(new GetPersonRequest { PersonId = personId });
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
        {
            return null;
        }
    }

    /// <summary>The server still identifies a real face and reports its statistics.</summary>
    private async Task AssertServesAsync()
    {
        var reply = await gallery.Client.SearchAsync(new SearchRequest { Image = Deepface.Bytes(gallery.HeldOut["jennifer"]) });
        Assert.Equal("jennifer", Assert.Single(reply.Faces).Matches[0].PersonId);
        Assert.True((await gallery.Client.StatsAsync(new StatsRequest())).Faces > 0);
    }

    private async Task<RpcException> EnrollFails(EnrollRequest request) =>
        await Assert.ThrowsAsync<RpcException>(() => gallery.Client.EnrollAsync(request).ResponseAsync);

    private static async Task<RpcException> Fails<T>(AsyncUnaryCall<T> call) =>
        await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync);

    private static void AssertError(RpcException error, StatusCode code, string reason, string message)
    {
        Assert.Equal(code, error.StatusCode);
        Assert.Equal(reason, error.Trailers.GetValue("faceindex-reason"));
        var info = error.GetRpcStatus()?.GetDetail<Google.Rpc.ErrorInfo>();
        Assert.Equal(reason, info?.Reason);
        Assert.Equal("faceindex.dev", info?.Domain);
        Assert.Contains(message, error.Status.Detail);
        Assert.DoesNotContain("   at ", error.Status.Detail);
    }

    private static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static byte[] Image(string kind)
    {
        var (rgba, w, h) = s_face.Value;
        var jpeg = Deepface.Image("img5.jpg");
        return kind switch
        {
            "empty" => [],
            "random-4KiB" => RandomBytes(4096, 42),
            "random-1MiB" => RandomBytes(1 << 20, 43),
            "jpeg-half" => jpeg[..(jpeg.Length / 2)],
            "jpeg-header-cut" => jpeg[..100],
            "png-half" => HostileImages.Png8(rgba, w, h) is var png ? png[..(png.Length / 2)] : [],
            "png-signature-only" => HostileImages.Png8(rgba, w, h)[..8],
            "png-bomb-30000x30000" => HostileImages.PngBomb(30000, 30000),
            "png-1bit-30000x30000" => HostileImages.PngBlank1Bit(30000, 30000),
            "jpeg-declares-65500x65500" => HostileImages.JpegWithDeclaredSize(jpeg, 65500, 65500),
            "png-1bit-6000x6000-in-budget" => HostileImages.PngBlank1Bit(6000, 6000),
            "png-1x1" => HostileImages.PngBlank1Bit(1, 1),
            "png-1x30000" => HostileImages.PngBlank1Bit(1, 30000),
            "gif-face-in-second-frame" => HostileImages.AnimatedGif(w, h, null, rgba),
            "jpeg-cmyk-face" => HostileImages.CmykJpeg(rgba, w, h),
            "png-16bit-face" => HostileImages.Png16(rgba, w, h),
            "gif-animated-face-first" => HostileImages.AnimatedGif(w, h, rgba, null),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
    }
}
