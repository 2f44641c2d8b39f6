namespace FaceIndex.Vision;

/// <summary>A face's bounding box in pixels of the image as displayed (after EXIF orientation).</summary>
/// <param name="X">Left edge.</param>
/// <param name="Y">Top edge.</param>
/// <param name="Width">Width.</param>
/// <param name="Height">Height.</param>
public readonly record struct FaceBox(float X, float Y, float Width, float Height)
{
    /// <summary>Width × height.</summary>
    public float Area => Width * Height;
}
