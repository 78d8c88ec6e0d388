"""What learners look at: the architecture drawn, what each branch responds to, where the
network looks (Grad-CAM, integrated gradients), DeepDream, and the explain page."""
