namespace FaceIndex.Vision;

/// <summary>
/// Head pose in degrees from the model package's pose model (fr_pose.onnx). Mirroring a face flips the
/// sign of <see cref="Yaw"/> and <see cref="Roll"/>; 0, 0, 0 is a frontal, upright face.
/// </summary>
/// <param name="Yaw">Left–right turn; |yaw| near 90 is a profile.</param>
/// <param name="Pitch">Up–down nod.</param>
/// <param name="Roll">In-plane tilt.</param>
public readonly record struct HeadPose(float Yaw, float Pitch, float Roll);
