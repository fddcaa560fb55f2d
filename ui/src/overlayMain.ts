import "./style.css";
import "./overlay.css";
import { startOverlay } from "./overlay";

const root = document.getElementById("overlay-root");
if (root) void startOverlay(root);
