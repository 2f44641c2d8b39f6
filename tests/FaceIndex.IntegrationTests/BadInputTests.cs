using FaceIndex.Core;
using FaceIndex.Protocol.V1;
using FaceIndex.Testing;
using Google.Protobuf;
using Grpc.Core;
using SkiaSharp;

namespace FaceIndex.IntegrationTests;

/// <summary>Every error a client can cause comes back with its status code, reason and a message saying what to fix.</summary>
public sealed class BadInputTests(GalleryFixture gallery) : IClassFixture<GalleryFixture>
{
    public static TheoryData<string, string> BadImages => new()
    {
        { "empty", "IMAGE_UNREADABLE" },
        { "random", "IMAGE_UNREADABLE" },
        { "truncated", "IMAGE_TRUNCATED" },
        { "one-pixel", "IMAGE_TOO_SMALL" },
        { "no-face", "NO_FACE" },
        { "over-budget", "IMAGE_TOO_LARGE" },
    };

    [Theory]
    [MemberData(nameof(BadImages))]
    public async Task A_bad_image_is_refused_with_InvalidArgument_and_its_reason(string kind, string reason)
    {
        var image = ByteString.CopyFrom(BadImage(kind));
        var error = await Assert.ThrowsAsync<RpcException>(() => gallery.Client.EnrollAsync(new EnrollRequest { PersonId = "x", Image = image }).ResponseAsync);
        AssertError(error, StatusCode.InvalidArgument, reason);

        var verify = await Assert.ThrowsAsync<RpcException>(() => gallery.Client.VerifyAsync(new VerifyRequest { ImageA = image, ImageB = Deepface.Bytes("img1.jpg") }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, verify.StatusCode);
    }

    [Fact]
    public async Task A_search_of_an_image_without_a_face_finds_no_face_rather_than_failing()
    {
        var reply = await gallery.Client.SearchAsync(new SearchRequest { Image = ByteString.CopyFrom(BadImage("no-face")) });
        Assert.Empty(reply.Faces);
    }

    [Fact]
    public async Task Vectors_of_the_wrong_length_range_or_model_are_refused()
    {
        var shortVector = new Protocol.V1.FaceVector { Data = ByteString.CopyFrom(new byte[100]), ModelVersion = TestPaths.ModelVersion };
        AssertError(await EnrollFails(shortVector), StatusCode.InvalidArgument, "INVALID_VECTOR");

        var minus128 = ValidVector();
        minus128[5] = 0x80;
        AssertError(await EnrollFails(new Protocol.V1.FaceVector { Data = ByteString.CopyFrom(minus128), ModelVersion = TestPaths.ModelVersion }), StatusCode.InvalidArgument, "INVALID_VECTOR");

        AssertError(await EnrollFails(new Protocol.V1.FaceVector { Data = ByteString.CopyFrom(new byte[128]), ModelVersion = TestPaths.ModelVersion }), StatusCode.InvalidArgument, "INVALID_VECTOR");

        var otherModel = new Protocol.V1.FaceVector { Data = ByteString.CopyFrom(ValidVector()), ModelVersion = "some-other-model-v9" };
        var error = await EnrollFails(otherModel);
        AssertError(error, StatusCode.FailedPrecondition, "MODEL_MISMATCH");
        Assert.Contains("some-other-model-v9", error.Status.Detail);

        var search = await Assert.ThrowsAsync<RpcException>(() => gallery.Client.SearchAsync(new SearchRequest { Vector = otherModel }).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, search.StatusCode);
    }

    [Fact]
    public async Task Requests_missing_what_they_need_are_refused()
    {
        var noPerson = await Assert.ThrowsAsync<RpcException>(() => gallery.Client.EnrollAsync(new EnrollRequest { Image = Deepface.Bytes("img1.jpg") }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, noPerson.StatusCode);
        Assert.Contains("person_id", noPerson.Status.Detail);

        var noInput = await Assert.ThrowsAsync<RpcException>(() => gallery.Client.EnrollAsync(new EnrollRequest { PersonId = "x" }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, noInput.StatusCode);

        var badTopK = await Assert.ThrowsAsync<RpcException>(() => gallery.Client.SearchAsync(new SearchRequest { Vector = new() { Data = ByteString.CopyFrom(ValidVector()), ModelVersion = TestPaths.ModelVersion }, TopK = 5000 }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, badTopK.StatusCode);

        var badThreshold = await Assert.ThrowsAsync<RpcException>(() => gallery.Client.SearchAsync(new SearchRequest { Vector = new() { Data = ByteString.CopyFrom(ValidVector()), ModelVersion = TestPaths.ModelVersion }, Threshold = -1 }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, badThreshold.StatusCode);
    }

    [Fact]
    public async Task What_does_not_exist_is_NotFound_and_what_exists_is_AlreadyExists()
    {
        var search = await Assert.ThrowsAsync<RpcException>(() => gallery.Client.SearchAsync(new SearchRequest { Collection = "nope", Image = Deepface.Bytes("img1.jpg") }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, search.StatusCode);
        Assert.Contains("CreateCollection", search.Status.Detail);

        var enroll = await Assert.ThrowsAsync<RpcException>(() => gallery.Client.EnrollAsync(new EnrollRequest { Collection = "nope", PersonId = "x", Image = Deepface.Bytes("img1.jpg") }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, enroll.StatusCode);

        var person = await Assert.ThrowsAsync<RpcException>(() => gallery.Client.GetPersonAsync(new GetPersonRequest { PersonId = "nobody" }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, person.StatusCode);

        var face = await Assert.ThrowsAsync<RpcException>(() => gallery.Client.DeleteFaceAsync(new DeleteFaceRequest { FaceId = 999_999 }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, face.StatusCode);

        var verify = await Assert.ThrowsAsync<RpcException>(() => gallery.Client.VerifyAsync(new VerifyRequest { ImageA = Deepface.Bytes("img1.jpg"), PersonId = "nobody" }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, verify.StatusCode);

        var twice = await Assert.ThrowsAsync<RpcException>(() => gallery.Client.CreateCollectionAsync(new CreateCollectionRequest { Name = "default" }).ResponseAsync);
        Assert.Equal(StatusCode.AlreadyExists, twice.StatusCode);

        var deleteDefault = await Assert.ThrowsAsync<RpcException>(() => gallery.Client.DeleteCollectionAsync(new DeleteCollectionRequest { Name = "default" }).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, deleteDefault.StatusCode);
    }

    [Fact]
    public async Task An_oversized_message_is_ResourceExhausted()
    {
        var huge = ByteString.CopyFrom(new byte[17 << 20]);
        var error = await Assert.ThrowsAsync<RpcException>(() => gallery.Client.EnrollAsync(new EnrollRequest { PersonId = "x", Image = huge }).ResponseAsync);
        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
    }

    [Fact]
    public async Task The_face_policy_decides_which_faces_of_a_photo_are_enrolled()
    {
        Assert.True((await gallery.Client.CreateCollectionAsync(new CreateCollectionRequest { Name = "policy" })).Name == "policy");
        var largest = await gallery.Client.EnrollAsync(new EnrollRequest { Collection = "policy", PersonId = "couple-largest", Image = Deepface.Bytes("couple.jpg") });
        Assert.Single(largest.Faces);
        Assert.Equal(1, largest.FacesIgnored);

        var all = await gallery.Client.EnrollAsync(new EnrollRequest { Collection = "policy", PersonId = "couple-all", Image = Deepface.Bytes("couple.jpg"), FacePolicy = FacePolicy.All });
        Assert.Equal(2, all.Faces.Count);
        Assert.Equal(0, all.FacesIgnored);

        var exactlyOne = await Assert.ThrowsAsync<RpcException>(() => gallery.Client.EnrollAsync(new EnrollRequest { Collection = "policy", PersonId = "couple-one", Image = Deepface.Bytes("couple.jpg"), FacePolicy = FacePolicy.ExactlyOne }).ResponseAsync);
        AssertError(exactlyOne, StatusCode.InvalidArgument, "MULTIPLE_FACES");
        await gallery.Client.DeleteCollectionAsync(new DeleteCollectionRequest { Name = "policy" });
    }

    private async Task<RpcException> EnrollFails(Protocol.V1.FaceVector vector) =>
        await Assert.ThrowsAsync<RpcException>(() => gallery.Client.EnrollAsync(new EnrollRequest { PersonId = "v", Vector = vector }).ResponseAsync);

    private static void AssertError(RpcException error, StatusCode code, string reason)
    {
        Assert.Equal(code, error.StatusCode);
        Assert.Equal(reason, error.Trailers.GetValue("faceindex-reason"));
        var info = error.GetRpcStatus()?.GetDetail<Google.Rpc.ErrorInfo>();
        Assert.Equal(reason, info?.Reason);
        Assert.Equal("faceindex.dev", info?.Domain);
        Assert.False(string.IsNullOrWhiteSpace(error.Status.Detail));
        Assert.DoesNotContain("   at ", error.Status.Detail);
    }

    /// <summary>The 128 bytes of a valid code (a quantized unit vector).</summary>
    internal static byte[] ValidVector()
    {
        var x = new float[FaceIndex.Core.FaceVector.Dimensions];
        SyntheticFaces.BaseRow(7, x);
        return Quantizer.Quantize(x).ToArray();
    }

    private static byte[] BadImage(string kind) => kind switch
    {
        "empty" => [],
        "random" => RandomBytes(4096),
        "truncated" => Deepface.Image("img5.jpg")[..(Deepface.Image("img5.jpg").Length / 2)],
        "one-pixel" => Encode(1, 1, SKColors.Gray),
        "no-face" => Encode(400, 300, SKColors.CornflowerBlue),
        "over-budget" => Encode(8000, 6000, SKColors.White),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    private static byte[] RandomBytes(int length)
    {
        var bytes = new byte[length];
        new Random(42).NextBytes(bytes);
        return bytes;
    }

    private static byte[] Encode(int width, int height, SKColor colour)
    {
        using var bitmap = new SKBitmap(width, height);
        bitmap.Erase(colour);
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }
}
