import { render } from 'preact';
import { App } from './app';
import { redirectLegacyLink } from './router';
import './styles.css';

redirectLegacyLink();
const root = document.getElementById('app');
if (root) render(<App />, root);
